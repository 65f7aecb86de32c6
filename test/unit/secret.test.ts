// The cluster secret's sources (issue 15, point 3): --secret-file / KVORUM_SECRET_FILE, KVORUM_SECRET,
// the config file, and --secret on the command line (deprecated, with a warning). No error or warning
// may quote the secret.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadNodeConfig } from '../../src/node/config.js';

const dir = mkdtempSync(join(tmpdir(), 'kvorum-secret-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (content: string, mode = 0o600) => {
  const path = join(dir, `s${++files}`);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
};
const load = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const warnings: string[] = [];
  return { secret: loadNodeConfig({ id: 'a', ...flags }, env, (m) => warnings.push(m)).secret, warnings };
};
const refused = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv, message: RegExp) =>
  assert.throws(() => load(flags, env), (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('hunter2'));

describe('the cluster secret', () => {
  it('is read from --secret-file, one trailing line break dropped, without a warning', () => {
    assert.deepEqual(load({ 'secret-file': file('hunter2\n') }), { secret: 'hunter2', warnings: [] });
    assert.deepEqual(load({ 'secret-file': file('hunter2') }), { secret: 'hunter2', warnings: [] });
  });

  it('is read from KVORUM_SECRET_FILE or KVORUM_SECRET when nothing else sets it', () => {
    assert.equal(load({}, { KVORUM_SECRET_FILE: file('hunter2\r\n') }).secret, 'hunter2');
    assert.equal(load({}, { KVORUM_SECRET: 'hunter2' }).secret, 'hunter2');
  });

  it('set by a flag or a config file wins over both environment variables', () => {
    const env = { KVORUM_SECRET: 'env', KVORUM_SECRET_FILE: file('env-file') };
    assert.equal(load({ 'secret-file': file('hunter2') }, env).secret, 'hunter2');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ secret: 'from-config' }));
    assert.equal(load({ config }, env).secret, 'from-config');
  });

  it('on the command line still works, with a warning that ps shows it', () => {
    const { secret, warnings } = load({ secret: 'hunter2' });
    assert.equal(secret, 'hunter2');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /visible to every user of this machine.*--secret-file/);
    assert.ok(!warnings[0]!.includes('hunter2'));
  });

  it('warns when the file can be read by other users', () => {
    const { warnings } = load({ 'secret-file': file('hunter2', 0o644) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /can be read by other users: chmod 600/);
  });

  it('is refused when set twice, or when the file is missing, empty, several lines or too large', () => {
    refused({ secret: 'hunter2', 'secret-file': file('hunter2') }, {}, /set the secret once/);
    refused({}, { KVORUM_SECRET: 'hunter2', KVORUM_SECRET_FILE: file('hunter2') }, /set the secret once/);
    refused({ 'secret-file': join(dir, 'missing') }, {}, /cannot read the secret file .*ENOENT/);
    refused({ 'secret-file': file('\n') }, {}, /is empty/);
    refused({ 'secret-file': file('hunter2\nhunter2\n') }, {}, /more than one line/);
    refused({ 'secret-file': file('hunter2'.repeat(1000)) }, {}, /larger than 4096 bytes/);
  });
});
