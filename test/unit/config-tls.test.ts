// The TLS knobs at load (docs/api.md, "TLS"): cert and key together, --tls-ca and --tls-peer-auth
// only with them, --tls-peer-auth only with a CA, files that exist and parse, https peer URLs;
// anything else is a ConfigError (exit 2). Certificates made with openssl (test/kit/certs.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadNodeConfig } from '../../src/node/config.js';
import { issueCert, makeCa, type DevCa, type NodeCert } from '../kit/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'kvorum-config-tls-'));
let ca: DevCa;
let cert: NodeCert;
let other: NodeCert;
const garbage = join(dir, 'garbage.pem');

before(() => {
  ca = makeCa(dir, 'ca');
  cert = issueCert(ca, 'n1');
  other = issueCert(ca, 'n2');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const withCert = (more: Record<string, unknown> = {}) => ({ id: 'n1', 'tls-cert': cert.certFile, 'tls-key': cert.keyFile, ...more });
const refused = (flags: Record<string, unknown>, message: RegExp) =>
  assert.throws(() => loadNodeConfig(flags, {}), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(flags));

describe('TLS configuration', () => {
  it('is off without flags, and then the node is plain http', () => {
    const config = loadNodeConfig({ id: 'n1' }, {});
    assert.equal(config.tls, undefined);
    assert.equal(config.peers.get(config.id), 'http://127.0.0.1:7001');
  });

  it('takes cert, key, CA and peer auth from flags, and makes its own URL https', () => {
    const config = loadNodeConfig(withCert({ 'tls-ca': ca.certFile, 'tls-peer-auth': true }), {});
    assert.deepEqual(config.tls, { certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.certFile, peerAuth: true });
    assert.equal(config.peers.get(config.id), 'https://127.0.0.1:7001');
  });

  it('takes them from a config file too, tlsPeerAuth as true/false', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ tlsCert: cert.certFile, tlsKey: cert.keyFile, tlsCa: ca.certFile, tlsPeerAuth: true }));
    assert.equal(loadNodeConfig({ id: 'n1', config: file }, {}).tls?.peerAuth, true);
    writeFileSync(file, JSON.stringify({ tlsCert: cert.certFile, tlsKey: cert.keyFile, tlsPeerAuth: 'yes' }));
    refused({ id: 'n1', config: file }, /tlsPeerAuth must be true or false/);
  });

  it('refuses a cert without its key, or a key without its cert', () => {
    refused({ id: 'n1', 'tls-cert': cert.certFile }, /--tls-cert and --tls-key go together/);
    refused({ id: 'n1', 'tls-key': cert.keyFile }, /--tls-cert and --tls-key go together/);
  });

  it('refuses --tls-ca or --tls-peer-auth without a certificate, and --tls-peer-auth without a CA', () => {
    refused({ id: 'n1', 'tls-ca': ca.certFile }, /need --tls-cert and --tls-key/);
    refused({ id: 'n1', 'tls-peer-auth': true }, /need --tls-cert and --tls-key/);
    refused(withCert({ 'tls-peer-auth': true }), /--tls-peer-auth needs --tls-ca/);
  });

  it('refuses files that do not exist, do not parse, or a key that is not the certificate\'s', () => {
    refused(withCert({ 'tls-cert': join(dir, 'missing.pem') }), /cannot read --tls-cert .*missing\.pem/);
    refused(withCert({ 'tls-key': garbage }), /cannot be used/);
    refused(withCert({ 'tls-cert': garbage }), /does not parse/);
    refused(withCert({ 'tls-ca': garbage }), /--tls-ca .* does not parse/);
    refused(withCert({ 'tls-ca': cert.keyFile }), /--tls-ca .* holds no PEM certificate/);
    refused(withCert({ 'tls-key': other.keyFile }), /cannot be used: .*key values mismatch/);
  });

  it('with TLS, refuses http peer URLs and an http --join', () => {
    refused(withCert({ peers: 'n1=https://127.0.0.1:7001,n2=http://127.0.0.1:7002' }), /every peer URL must be https; n2/);
    refused(withCert({ join: 'http://127.0.0.1:7002' }), /--join must be an https URL/);
    assert.equal(loadNodeConfig(withCert({ join: 'https://127.0.0.1:7002' }), {}).join, 'https://127.0.0.1:7002');
  });

  it('kvorum start exits 2 with the message for a bad TLS configuration', () => {
    const cli = join(import.meta.dirname, '../../src/cli/kvorum.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, 'start', '--id', 'x', '--tls-cert', cert.certFile], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stderr.trim(), 'kvorum: --tls-cert and --tls-key go together: give both or neither');
  });
});
