// `kvorum start --check-config` (docs/api.md, `kvorum start`): the real CLI from dist/ (npm run build
// first) validates flags, config file, environment and the files they name as a start would, prints the
// effective configuration as JSON without any secret, exits 0 or 1, and binds no port, creates no data
// directory and starts nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliPath, repoRoot } from '../kit/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'kvorum-check-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const secret = 'check-config-secret-0123456789';
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });

function kvorum(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'], ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const check = (args: readonly string[], env?: NodeJS.ProcessEnv) => kvorum(['start', ...args, '--check-config'], env);

function refused(args: readonly string[], reason: RegExp) {
  const result = check(args);
  assert.equal(result.status, 1, result.stdout);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^kvorum: invalid configuration: /);
  assert.match(result.stderr, reason);
}

describe('kvorum start --check-config', () => {
  it('a valid configuration: exit 0, the effective configuration as JSON', () => {
    const config = join(dir, 'node.json');
    writeFileSync(config, JSON.stringify({ partitions: 128, sync: 'full' }));
    const result = check(['--id', 'n1', '--listen', '0.0.0.0:7101', '--advertise', 'http://h1:7101', '--config', config, '--n', '2']);
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.valid, true);
    assert.deepEqual(
      [out.config.id, out.config.listen, out.config.advertise, out.config.partitions, out.config.sync, out.config.n, out.config.configFile],
      ['n1', '0.0.0.0:7101', 'http://h1:7101', 128, 'full', 2, config],
    );
    assert.deepEqual(out.config.peers, { n1: 'http://h1:7101' });
    assert.equal(out.config.secret, null);
    assert.deepEqual(out.warnings, []);
  });

  it('the secret is never printed, only where it came from', () => {
    const fromFile = check(['--id', 'n1', '--secret-file', secretFile]);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.deepEqual(JSON.parse(fromFile.stdout).config.secret, { redacted: true, from: `--secret-file ${secretFile}` });
    const fromEnv = check(['--id', 'n1'], { KVORUM_SECRET: secret });
    assert.deepEqual(JSON.parse(fromEnv.stdout).config.secret, { redacted: true, from: 'KVORUM_SECRET' });
    const fromEnvFile = check(['--id', 'n1'], { KVORUM_SECRET_FILE: secretFile });
    assert.deepEqual(JSON.parse(fromEnvFile.stdout).config.secret, { redacted: true, from: `KVORUM_SECRET_FILE ${secretFile}` });
    const config = join(dir, 'with-secret.json');
    writeFileSync(config, JSON.stringify({ secretFile }));
    const fromConfig = check(['--id', 'n1', '--config', config], { KVORUM_SECRET: 'ignored-env-secret' });
    assert.deepEqual(JSON.parse(fromConfig.stdout).config.secret, { redacted: true, from: `secretFile ${secretFile} (config file ${config})` });
    const onCommandLine = check(['--id', 'n1', '--secret', secret]);
    assert.equal(onCommandLine.status, 0);
    assert.match(JSON.parse(onCommandLine.stdout).warnings.join(' '), /visible to every user/);
    for (const result of [fromFile, fromEnv, fromEnvFile, fromConfig, onCommandLine]) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret));
  });

  it('the auth file is read (a bad one refused); only its token count is shown', () => {
    const authFile = join(dir, 'auth.json');
    const created = kvorum(['token', 'create', '--role', 'admin', '--auth-file', authFile]);
    assert.equal(created.status, 0, created.stderr);
    const token = created.stdout.trim();
    const result = check(['--id', 'n1', '--auth-file', authFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).config.auth, { file: authFile, tokens: 1 });
    assert.ok(!result.stdout.includes(token.slice(-20)));
    const bad = join(dir, 'bad-auth.json');
    writeFileSync(bad, '{"version": 1, "tokens": "no"}');
    refused(['--id', 'n1', '--auth-file', bad], /tokens/);
  });

  it('an invalid flag value, an unknown flag, a bad config file, a missing secret file: exit 1 and the reason', () => {
    refused(['--id', 'n1', '--n', '0'], /n must be an integer in 1\.\.16, got "0"/);
    refused(['--id', 'n1', '--no-such-flag'], /Unknown option '--no-such-flag'/);
    refused(['--id', 'N1!'], /--id is required and must match/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"partitions": ');
    refused(['--id', 'n1', '--config', broken], /cannot read config .*broken\.json/);
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ partitions: 100 }));
    refused(['--id', 'n1', '--config', wrong], /partitions must be a power of two, got 100/);
    refused(['--id', 'n1', '--secret-file', join(dir, 'missing')], /cannot read the secret file/);
    refused(['--id', 'n1', '--tls-cert', join(dir, 'missing.pem'), '--tls-key', join(dir, 'missing.key')], /missing\.pem/);
  });

  it('binds no port, creates no data directory, starts nothing', async () => {
    // The port is held here: a real start would fail on it (EADDRINUSE); the check does not try.
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const dataDir = join(dir, 'never-created');
      const result = check(['--id', 'n1', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).config.listen, `127.0.0.1:${port}`);
      assert.equal(existsSync(dataDir), false, 'no data directory (no database) was made');
      const started = kvorum(['start', '--id', 'n1', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'silent']);
      assert.notEqual(started.status, 0, 'a real start on the held port fails: the check above really did not bind it');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('without --check-config a bad configuration still exits 2', () => {
    assert.equal(kvorum(['start', '--id', 'n1', '--n', '0']).status, 2);
  });
});
