// loadNodeConfig: defaults, precedence (flags > file > config/default.json, KVORUM_SECRET last),
// the deprecated maxValueBytes / --max-value-bytes names, and exit code 2 for a bad configuration.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadNodeConfig } from '../../src/node/config.js';
import { asNodeId } from '../../src/core/types.js';

const dir = mkdtempSync(join(tmpdir(), 'kvorum-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const configFile = (content: Record<string, unknown>) => {
  const path = join(dir, `c${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const load = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const warnings: string[] = [];
  return { config: loadNodeConfig(flags, env, (m) => warnings.push(m)), warnings };
};
const refused = (flags: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => loadNodeConfig(flags, {}), (err: unknown) => err instanceof ConfigError && message.test(err.message));

describe('loadNodeConfig', () => {
  it('takes its defaults from the knob table and config/default.json', () => {
    const { config, warnings } = load({ id: 'a' });
    assert.deepEqual(warnings, []);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 7001);
    assert.equal(config.dataDir, './data/a');
    assert.deepEqual([...config.peers], [['a', 'http://127.0.0.1:7001']]);
    assert.deepEqual([config.n, config.partitions, config.valueBytesMax, config.sync, config.logLevel], [3, 64, 1_048_576, 'normal', 'info']);
    assert.equal(config.secret, undefined);
    assert.deepEqual(config.convergence, {
      tombstoneGraceMs: 60_000, antiEntropyIntervalMs: 2000, handoffIntervalMs: 1000, hintsPerPeerMax: 100_000, probeIntervalMs: 1000,
      phiThreshold: 8, gossipIntervalMs: 1000, transferLimits: { concurrency: 2, bytesPerSecond: 32 * 1024 * 1024 },
    });
    assert.equal(config.join, undefined);
  });

  it('--join takes a member URL and excludes --peers', () => {
    assert.equal(load({ id: 'a', join: 'http://127.0.0.1:7001/' }).config.join, 'http://127.0.0.1:7001');
    assert.throws(() => load({ id: 'a', join: 'http://127.0.0.1:7001', peers: 'a=http://127.0.0.1:7002' }), /--join and --peers exclude each other/);
    assert.throws(() => load({ id: 'a', join: 'ftp://x' }), /--join must be a member's http URL/);
  });

  it('--advertise: the URL given out; it must agree with --peers; a wildcard --listen without it advertises the host name', () => {
    const peers = 'a=http://10.0.0.1:7001,b=http://10.0.0.2:7001';
    assert.equal(load({ id: 'a', listen: '0.0.0.0:7001', peers }).config.advertiseUrl, 'http://10.0.0.1:7001', 'the --peers entry');
    const given = load({ id: 'a', listen: '0.0.0.0:7001', advertise: 'http://10.0.0.1:7001/', peers }).config;
    assert.deepEqual([given.host, given.advertiseUrl, given.peers.get(asNodeId('a'))], ['0.0.0.0', 'http://10.0.0.1:7001', 'http://10.0.0.1:7001']);
    refused({ id: 'a', advertise: 'http://10.0.0.9:7001', peers }, /--advertise http:\/\/10.0.0.9:7001 differs from this node's --peers entry http:\/\/10.0.0.1:7001/);
    const joining = load({ id: 'd', listen: '0.0.0.0:7004', join: 'http://10.0.0.1:7001' }, { KVORUM_ADVERTISE: 'http://kv-3.kv:7004' }).config;
    assert.deepEqual([...joining.peers], [['d', 'http://kv-3.kv:7004']], 'from the environment, with --join');
    for (const bad of ['10.0.0.1:7001', 'ftp://x:1', 'http://0.0.0.0:7001', 'http://h:7001/path', 'http://u:p@h:7001', 'http://h:7001?q=1']) {
      refused({ id: 'a', advertise: bad }, /--advertise must be an http\(s\) URL/);
    }
    const { config: wild, warnings } = load({ id: 'a', listen: '0.0.0.0:7005' });
    assert.equal(wild.advertiseUrl, `http://${hostname()}:7005`);
    assert.match(warnings.join('\n'), /binds every address and no --advertise was given/);
    assert.equal(load({ id: 'a', listen: '127.0.0.1:7006' }).config.advertiseUrl, 'http://127.0.0.1:7006');
  });

  it('flags win over the file, the file over the defaults', () => {
    const config = configFile({ id: 'f', n: 1, partitions: 128, sync: 'full', probeIntervalMs: 70, dataDir: '/tmp/x' });
    const { config: c } = load({ config, id: 'a', n: '2', 'probe-interval-ms': '80' });
    assert.deepEqual([c.id, c.n, c.partitions, c.sync, c.dataDir, c.convergence.probeIntervalMs], ['a', 2, 128, 'full', '/tmp/x', 80]);
  });

  it('takes a fractional phi threshold from a flag or a file', () => {
    assert.equal(load({ id: 'a', 'phi-threshold': '12.5' }).config.convergence.phiThreshold, 12.5);
    assert.equal(load({ id: 'a', config: configFile({ phiThreshold: 5 }) }).config.convergence.phiThreshold, 5);
    assert.equal(load({ id: 'a', config: configFile({ phiThreshold: 5 }), 'phi-threshold': '1' }).config.convergence.phiThreshold, 1);
  });

  it('KVORUM_SECRET is used only when neither a flag nor the file sets the secret', () => {
    const env = { KVORUM_SECRET: 'from-env' };
    assert.equal(load({ id: 'a' }, env).config.secret, 'from-env');
    const file = configFile({ secret: 'from-file' });
    assert.equal(load({ id: 'a', config: file }, env).config.secret, 'from-file');
    assert.equal(load({ id: 'a', config: file, secret: 'from-flag' }, env).config.secret, 'from-flag');
  });

  it('accepts the old names maxValueBytes and --max-value-bytes, with a warning', () => {
    const old = load({ id: 'a', config: configFile({ maxValueBytes: 1000 }) });
    assert.equal(old.config.valueBytesMax, 1000);
    assert.deepEqual(old.warnings, ['maxValueBytes is deprecated, use valueBytesMax']);
    const flag = load({ id: 'a', 'max-value-bytes': '2000' });
    assert.equal(flag.config.valueBytesMax, 2000);
    assert.deepEqual(flag.warnings, ['--max-value-bytes is deprecated, use --value-bytes-max']);
    // Different sources: the usual precedence, whatever the names.
    assert.equal(load({ id: 'a', config: configFile({ maxValueBytes: 1000 }), 'value-bytes-max': '3000' }).config.valueBytesMax, 3000);
    assert.equal(load({ id: 'a', config: configFile({ valueBytesMax: 1000 }), 'max-value-bytes': '4000' }).config.valueBytesMax, 4000);
    refused({ id: 'a', config: configFile({ maxValueBytes: 1, valueBytesMax: 2 }) }, /set valueBytesMax or its old name maxValueBytes, not both/);
    refused({ id: 'a', 'max-value-bytes': '1', 'value-bytes-max': '2' }, /set --value-bytes-max or its old name --max-value-bytes, not both/);
  });

  it('refuses values outside the table', () => {
    refused({}, /--id is required/);
    refused({ id: 'A!' }, /--id is required and must match/);
    refused({ id: 'a', n: '99' }, /^n must be an integer in 1\.\.16, got "99"$/);
    refused({ id: 'a', partitions: '100' }, /partitions must be a power of two, got 100/);
    refused({ id: 'a', partitions: '8192' }, /partitions must be an integer in 8\.\.4096/);
    refused({ id: 'a', 'value-bytes-max': '0' }, /valueBytesMax must be an integer in 1\.\.67108864/);
    refused({ id: 'a', sync: 'always' }, /sync must be "normal" or "full", got "always"/);
    refused({ id: 'a', 'log-level': 'loud' }, /logLevel must be "trace", .* or "silent", got "loud"/);
    refused({ id: 'a', 'tombstone-grace-ms': '-1' }, /tombstoneGraceMs must be an integer/);
    refused({ id: 'a', listen: 'nowhere' }, /listen must be HOST:PORT/);
    for (const bad of ['0.99', '100.5', '-8', '8e0', 'eight', '', '.5']) {
      refused({ id: 'a', 'phi-threshold': bad }, /^phiThreshold must be a number in 1\.\.100, got /);
    }
    refused({ id: 'a', config: configFile({ phiThreshold: 0 }) }, /^phiThreshold must be a number in 1\.\.100, got 0$/);
    refused({ id: 'a', r: '4' }, /^r must be 1\.\.3, one, quorum or all/);
    refused({ id: 'a', secret: '' }, /secret must be a non-empty string/);
    refused({ id: 'a', peers: 'b=http://h:1' }, /peers must include this node/);
    refused({ id: 'a', config: join(dir, 'missing.json') }, /cannot read config/);
  });
});

describe('kvorum start with a bad configuration', () => {
  const cli = join(import.meta.dirname, '../../src/cli/kvorum.ts');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', env: { ...process.env, KVORUM_SECRET: '' } });

  it('exits 2 with the message on stderr', () => {
    const bad = run('start', '--id', 'x', '--n', '99');
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim(), 'kvorum: n must be an integer in 1..16, got "99"');
    const unknown = run('start', '--id', 'x', '--no-such-flag', '1');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^kvorum: Unknown option '--no-such-flag'/);
  });

  it('kvorum help prints the generated usage and exits 0', () => {
    const help = run('help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--value-bytes-max B .*old name --max-value-bytes/);
    assert.match(help.stdout, /--tombstone-grace-ms MS .*\[tombstoneGraceMs; default 60000; 0\.\.31536000000 ms\]/);
  });
});
