// TLS (docs/api.md, "TLS"): HTTPS-only nodes whose internal RPC goes over TLS too; with
// --tls-peer-auth, internal RPC refused (403, nothing run) over a connection without a certificate
// the cluster CA signed; certificates reloaded on SIGHUP. Certificates made with openssl (test/kit/certs.ts).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { rpcContentType } from '../../src/transport/codec.js';
import { encodeFrame, frameKind } from '../../src/transport/frames.js';
import { issueCert, makeCa, tlsArgs, type DevCa, type NodeCert } from '../kit/certs.js';
import { Agent } from 'undici';
import { http, waitHealthy } from '../kit/http.js';
import { cliPath } from '../kit/paths.js';
import { freeConsecutivePorts } from '../kit/ports.js';
import { forgetTempDir, Proc, registerTempDir } from '../kit/proc.js';
import { runNode } from '../kit/run-node.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { replicate } from '../helpers/evil-rpc.js';

const secret = 'tls-s3cret';
const root = mkdtempSync(join(tmpdir(), 'kvorum-tls-'));
registerTempDir(root);
let ca: DevCa;
let foreignCa: DevCa;
const certs = new Map<string, NodeCert>();
let rogue: NodeCert;
let cluster: TestCluster | undefined;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

before(() => {
  ca = makeCa(root, 'dev-ca');
  foreignCa = makeCa(root, 'foreign-ca');
  for (const id of ['n1', 'n2', 'n3', 'n4']) certs.set(id, issueCert(ca, id));
  rogue = issueCert(foreignCa, 'rogue');
});
after(() => {
  rmSync(root, { recursive: true, force: true });
  forgetTempDir(root);
});

/** Three nodes n1..n3 with --tls-ca the dev CA; each serves its own certificate, unless `served` names another. */
const startTlsCluster = (peerAuth: boolean, served: (id: string) => NodeCert = (id) => certs.get(id)!) =>
  startCluster({
    nodes: 3,
    n: 3,
    secret,
    // The kit trusts the foreign CA too: it must reach a node serving a foreign certificate to see its peers refuse it.
    https: { ca: Buffer.concat([readFileSync(ca.certFile), readFileSync(foreignCa.certFile)]) },
    nodeArgs: (id) => tlsArgs(served(id), ca, peerAuth),
  });

const portOf = (url: string) => Number(new URL(url).port);
const text = { 'content-type': 'text/plain' };

/** PUT w=all through one node, then GET r=all through every node: needs every peer, over TLS. */
async function assertReplicatedEverywhere(key: string, value: string): Promise<void> {
  const { dispatcher, nodes } = cluster!;
  const put = await http('PUT', `${nodes[0]!.url}/kv/${key}?w=all`, { body: value, headers: text, dispatcher });
  assert.equal(put.status, 204, `PUT ${key} w=all: ${put.status} ${put.text()}`);
  for (const n of nodes) {
    const res = await http('GET', `${n.url}/kv/${key}?r=all`, { dispatcher });
    assert.equal(res.status, 200, `GET ${key} r=all via ${n.id}: ${res.status} ${res.text()}`);
    assert.equal(res.text(), value);
  }
}

/** The serial of the certificate a new TLS connection to `port` is served. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(ca.certFile) }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no TLS handshake in 5 s')));
  });
}

const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber;

/**
 * Sends `request` over a raw TLS connection presenting `client` (or no certificate) and returns
 * what came back: everything up to the close, or the head of a 101 (the connection is then dropped).
 */
function rawTls(port: number, request: Buffer, client: NodeCert | undefined): Promise<string> {
  const identity = client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {};
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(ca.certFile), ...identity }, () => socket.write(request));
    const answer = () => Buffer.concat(chunks).toString('latin1');
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (/^HTTP\/1\.1 101/.test(answer()) && answer().includes('\r\n\r\n')) socket.destroy();
    });
    socket.once('close', () => resolve(answer()));
    socket.once('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
  });
}


function rpcPost(key: string): Buffer {
  const body = replicate(key);
  const head = `POST /internal/rpc HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${secret}\r\ncontent-type: ${rpcContentType}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The channel upgrade with the right secret, and a replicate frame sent at once behind it. */
function channelUpgrade(key: string): Buffer {
  const head = `GET /internal/channel HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: kvorum-rpc/1\r\nauthorization: Bearer ${secret}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), encodeFrame(1, frameKind.batch, replicate(key))]);
}

async function assertAbsentEverywhere(key: string): Promise<void> {
  for (const n of cluster!.nodes) {
    const res = await http('GET', `${n.url}/kv/${key}?r=all`, { dispatcher: cluster!.dispatcher });
    assert.equal(res.status, 404, `GET ${key} r=all via ${n.id}: ${res.status} ${res.text().slice(0, 100)}`);
  }
}

describe('HTTPS nodes (--tls-cert, --tls-key, --tls-ca)', () => {
  before(async () => {
    cluster = await startTlsCluster(false);
  });
  after(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  test('writes at w=all and reads at r=all work: client and internode traffic over TLS', async () => {
    await assertReplicatedEverywhere('tls-a', 'over tls');
    const ring = (await http('GET', `${cluster!.nodes[0]!.url}/cluster`, { dispatcher: cluster!.dispatcher })).json();
    const urls = JSON.stringify(ring);
    assert.ok(!urls.includes('http://'), `no http URL in /cluster: ${urls.slice(0, 300)}`);
    assert.match(urls, /https:\/\/127\.0\.0\.1:/);
  });

  test('plain HTTP to the port fails, and so does HTTPS from a client that does not trust the CA', async () => {
    const port = portOf(cluster!.nodes[0]!.url);
    await assert.rejects(http('GET', `http://127.0.0.1:${port}/health`, { timeoutMs: 5000 }));
    await assert.rejects(http('GET', `https://127.0.0.1:${port}/health`, { timeoutMs: 5000 }), /CERT|certificate|SELF_SIGNED|UNABLE/i);
  });

  test('kvorum status and the data commands (the typed client) reach https nodes with NODE_EXTRA_CA_CERTS', async () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: ca.certFile };
    const url = cluster!.nodes[1]!.url;
    const status = await runNode([cliPath, 'status', '--url', url], { deadlineMs: 20_000, env });
    assert.equal(status.code, 0, `kvorum status: ${status.stderr}`);
    assert.match(status.stdout.toString('utf8'), new RegExp(`n1 .*${cluster!.nodes[0]!.url.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(status.stdout.toString('utf8'), /did not answer/, 'the asked node reached every https member for /admin/overview');
    const put = await runNode([cliPath, 'put', 'tls-cli', 'by the cli', '--url', url], { deadlineMs: 20_000, env });
    assert.equal(put.code, 0, `kvorum put: ${put.stderr}`);
    const get = await runNode([cliPath, 'get', 'tls-cli', '--url', cluster!.nodes[2]!.url], { deadlineMs: 20_000, env });
    assert.equal(get.code, 0, `kvorum get: ${get.stderr}`);
    assert.equal(get.stdout.toString('utf8'), 'by the cli');
    const untrusted = await runNode([cliPath, 'get', 'tls-cli', '--url', url], { deadlineMs: 20_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
    assert.equal(untrusted.code, 3, `without the CA the node is not trusted: ${untrusted.stderr}`);
    const backup = await runNode([cliPath, 'admin', 'backup', '--url', url, '--out', join(root, 'tls-backup.db')], { deadlineMs: 30_000, env });
    assert.equal(backup.code, 0, `kvorum admin backup: ${backup.stderr}`);
    assert.match(backup.stdout.toString('utf8'), /integrity ok/);
  });

  test('SIGHUP reloads the certificate; a reload of garbage keeps the old one and the node serving', async () => {
    const n3 = cluster!.node('n3');
    const port = portOf(n3.url);
    const before = await servedSerial(port);
    assert.equal(before, serialOf(certs.get('n3')!.certFile));
    const renewed = issueCert(ca, 'n3'); // the same files, a new key and serial
    const after = serialOf(renewed.certFile);
    assert.notEqual(after, before);
    n3.kill('SIGHUP');
    await waitFor(async () => (await servedSerial(port)) === after, { timeoutMs: 10_000, what: `n3 to serve the certificate ${after}` });
    await assertReplicatedEverywhere('tls-after-reload', 'renewed'); // peers check n3's new certificate too

    writeFileSync(renewed.certFile, '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
    try {
      n3.kill('SIGHUP');
      await waitFor(() => /TLS certificates not reloaded/.test(n3.logs()), { timeoutMs: 10_000, what: 'the failed reload in the log' });
      assert.ok(n3.running(), 'a failed reload must not stop the node');
      assert.equal(await servedSerial(port), after, 'the certificate in use stays');
      assert.equal((await http('GET', `${n3.url}/health`, { dispatcher: cluster!.dispatcher })).status, 200);
      await assertReplicatedEverywhere('tls-after-bad-reload', 'still');
    } finally {
      issueCert(ca, 'n3'); // valid files again for the clusters after this one
    }
  });
});

describe('mutual TLS between nodes (--tls-peer-auth)', () => {
  before(async () => {
    cluster = await startTlsCluster(true);
  });
  after(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  test('peers present their certificates: w=all and r=all work; clients without a certificate still reach the client API', async () => {
    await assertReplicatedEverywhere('mtls-a', 'mutual');
  });

  test('internal RPC over a connection with a foreign-CA certificate or none is refused with 403 before anything runs', async () => {
    const port = portOf(cluster!.nodes[0]!.url);
    for (const [what, client] of [['a certificate the foreign CA signed', rogue], ['no certificate', undefined]] as const) {
      const post = await rawTls(port, rpcPost('mtls-evil-post'), client);
      assert.match(post, /^HTTP\/1\.1 403 /, `POST /internal/rpc with ${what}: ${post.slice(0, 200)}`);
      assert.match(post, /"error":"peer_certificate_required"/);
      const upgrade = await rawTls(port, channelUpgrade('mtls-evil-channel'), client);
      assert.match(upgrade, /^HTTP\/1\.1 403 /, `channel upgrade with ${what}: ${upgrade.slice(0, 200)}`);
      assert.match(upgrade, /"error":"peer_certificate_required"/);
    }
    await assertAbsentEverywhere('mtls-evil-post');
    await assertAbsentEverywhere('mtls-evil-channel');
    assert.match(cluster!.logs(), /"failure":"rpc_untrusted_peer"/);
  });

  test('the same calls with a certificate the cluster CA signed are served (the refusal above was the certificate)', async () => {
    const n1 = cluster!.nodes[0]!;
    const post = await rawTls(portOf(n1.url), rpcPost('mtls-good'), certs.get('n2'));
    assert.match(post, /^HTTP\/1\.1 200 /, post.slice(0, 200));
    const res = await http('GET', `${n1.url}/kv/mtls-good?r=all`, { dispatcher: cluster!.dispatcher });
    assert.equal(res.status, 200, `the replicated value is stored: ${res.status} ${res.text()}`);
    const upgrade = await rawTls(portOf(n1.url), channelUpgrade('mtls-good-channel'), certs.get('n2'));
    assert.match(upgrade, /^HTTP\/1\.1 101 /, upgrade.slice(0, 200));
  });

  test('a new node joins over mutual TLS (--join https://...) and is in the ring at its https URL', async () => {
    const n1 = cluster!.nodes[0]!;
    const n4 = await cluster!.join('n4', n1.url);
    const ring = (await http('GET', `${n1.url}/cluster`, { dispatcher: cluster!.dispatcher })).json();
    assert.match(JSON.stringify(ring), new RegExp(`"${n4.url.replace(/[.]/g, '\\.')}"`), `n4 at ${n4.url} in ${JSON.stringify(ring).slice(0, 400)}`);
  });
});

describe('a node whose certificate the cluster CA did not sign (--tls-peer-auth)', () => {
  before(async () => {
    cluster = await startTlsCluster(true, (id) => (id === 'n3' ? rogue : certs.get(id)!));
  });
  after(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  test('is refused both ways: its peers do not trust its certificate, nor take its calls', async () => {
    const [n1, , n3] = cluster!.nodes;
    const { dispatcher } = cluster!;
    const all = await http('PUT', `${n1!.url}/kv/foreign-a?w=all`, { body: 'x', headers: text, dispatcher });
    assert.equal(all.status, 503, `w=all needs n3, which n1 must not trust: ${all.status} ${all.text()}`);
    assert.equal(all.json().error, 'quorum_unavailable');
    const two = await http('PUT', `${n1!.url}/kv/foreign-b?w=2`, { body: 'y', headers: text, dispatcher });
    assert.equal(two.status, 204, `n1 and n2 trust each other: ${two.status} ${two.text()}`);
    const viaRogue = await http('PUT', `${n3!.url}/kv/foreign-c?w=2`, { body: 'z', headers: text, dispatcher });
    assert.equal(viaRogue.status, 503, `n3's calls to its peers are refused: ${viaRogue.status} ${viaRogue.text()}`);
    await waitFor(() => /"failure":"rpc_untrusted_peer"/.test(cluster!.node('n1').logs() + cluster!.node('n2').logs()), { timeoutMs: 10_000, what: 'n1 or n2 to log n3 refused' });
    // n3 runs and answers its clients, but to n1 it is unreachable: its certificate does not verify.
    const view = (await http('GET', `${n1!.url}/cluster`, { dispatcher })).json<{ members: { id: string; status: string }[] }>();
    assert.notEqual(view.members.find((m) => m.id === 'n3')?.status, 'up', JSON.stringify(view.members));
    assert.equal((await http('GET', `${n3!.url}/health`, { dispatcher })).status, 200);
    const why = n1!.logs().split('\n').filter((l) => l.includes('"failure":"peer_unreachable"') && l.includes('"peer":"n3"'));
    assert.match(why.join('\n'), /UNABLE_TO_VERIFY_LEAF_SIGNATURE/, `n1 says why it cannot reach n3: ${why.slice(0, 2).join('\n')}`);
  });
});

describe('kvorum cluster with TLS flags after --', () => {
  it('starts HTTPS nodes, prints and checks https URLs, and stops them', async () => {
    const base = await freeConsecutivePorts(2);
    const urls = [0, 1].map((i) => `https://127.0.0.1:${base + i}`);
    const n1 = certs.get('n1')!; // one certificate for every node: it names 127.0.0.1
    const args = ['cluster', '--nodes', '2', '--base-port', String(base), '--data-dir', join(root, 'cluster-data')];
    const supervisor = new Proc('cluster', [cliPath, ...args, '--', '--n', '2', ...tlsArgs(n1, ca, true)]);
    const dispatcher = new Agent({ connect: { ca: readFileSync(ca.certFile) } });
    try {
      await withLogs(() => supervisor.logs(), async () => {
        await Promise.all(urls.map((u) => waitHealthy(u, 20_000, () => supervisor.running, dispatcher)));
        await waitFor(() => /2 nodes ready/.test(supervisor.logs()) && urls.every((u) => supervisor.logs().includes(u)), { timeoutMs: 10_000, what: 'the https URLs printed' });
        const put = await http('PUT', `${urls[0]}/kv/cluster-tls?w=all`, { body: 'both', headers: text, dispatcher });
        assert.equal(put.status, 204, `${put.status} ${put.text()}`);
        supervisor.kill('SIGHUP'); // passed on to the nodes: they reload, nobody stops
        await waitFor(() => (supervisor.logs().match(/TLS certificates reloaded/g) ?? []).length === 2, { timeoutMs: 10_000, what: 'both nodes to reload' });
        assert.ok(supervisor.running);
        supervisor.kill('SIGTERM');
        assert.deepEqual(await supervisor.waitExit(15_000), { code: 0, signal: null }, 'HTTPS nodes stop cleanly');
      });
    } finally {
      if (supervisor.running) supervisor.kill('SIGKILL');
      await supervisor.waitExit(5000).catch(() => undefined);
      await dispatcher.close();
    }
  });
});
