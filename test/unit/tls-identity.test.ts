// TlsIdentity and the TLS clients of internal RPC against a real HTTPS server in this process:
// peers checked against the CA and by name (subjectAltName), our certificate presented with
// --tls-peer-auth, a reload that fails keeping the material in use, a good one reaching new pools.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { TransportError } from '../../src/core/ports.js';
import { asNodeId } from '../../src/core/types.js';
import { HttpPoster } from '../../src/transport/http-post.js';
import { PeerChannel } from '../../src/transport/peer-channel.js';
import { TlsIdentity, type TlsSettings } from '../../src/transport/tls-identity.js';
import { issueCert, makeCa, type DevCa, type NodeCert } from '../kit/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'kvorum-tls-identity-'));
let ca: DevCa;
let server: NodeCert;
let client: NodeCert;
let misnamed: NodeCert;
const peer = asNodeId('p1');

before(() => {
  ca = makeCa(dir, 'ca');
  server = issueCert(ca, 'server');
  client = issueCert(ca, 'client');
  misnamed = issueCert(ca, 'misnamed', 'DNS:elsewhere.example');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const settings = (cert: NodeCert, peerAuth: boolean): TlsSettings => ({ certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.certFile, peerAuth });

/** An HTTPS server with `identity`'s options that answers every request with whether the client's certificate verified. */
async function serve(identity: TlsIdentity): Promise<{ url: string; server: Server }> {
  const s = createServer(identity.serverOptions(), (req, res) => res.end(JSON.stringify({ authorized: (req.socket as TLSSocket).authorized })));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(s.address() as AddressInfo).port}`, server: s };
}

const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('TlsIdentity', () => {
  it('presents our certificate with peerAuth, and a server with peerAuth sees it verified; without peerAuth it presents none', async () => {
    const served = await serve(new TlsIdentity(settings(server, true)));
    try {
      for (const [peerAuth, authorized] of [[true, true], [false, false]] as const) {
        const res = await request(served.url, { dispatcher: new TlsIdentity(settings(client, peerAuth)).agent() });
        assert.deepEqual(await res.body.json(), { authorized }, `peerAuth ${peerAuth}`);
      }
    } finally {
      served.server.closeAllConnections();
      await close(served.server);
    }
  });

  it('the channel refuses a server whose certificate does not name the host of its URL', async () => {
    const served = await serve(new TlsIdentity(settings(misnamed, false)));
    try {
      const open = PeerChannel.open(peer, served.url, undefined, 5000, new TlsIdentity(settings(client, false)).clientOptions());
      await assert.rejects(open, (err: unknown) => err instanceof TransportError && /ERR_TLS_CERT_ALTNAME_INVALID/.test(err.message));
      const poster = new HttpPoster(undefined, new TlsIdentity(settings(client, false)));
      await assert.rejects(poster.post(peer, served.url, Buffer.alloc(1), 5000, false), (err: unknown) => err instanceof TransportError && /ALTNAME/.test(err.message));
      await poster.close();
    } finally {
      served.server.closeAllConnections();
      await close(served.server);
    }
  });

  it('the channel gives up on a peer that accepts TCP but never completes the TLS handshake, and closes the connection', async () => {
    const accepted: Socket[] = [];
    let closed!: Promise<void>;
    const silent = createTcpServer((socket) => {
      accepted.push(socket);
      socket.on('error', () => undefined);
      socket.resume(); // reads (and drops) the ClientHello, so the peer's FIN is seen
      closed = new Promise((resolve) => socket.once('close', () => resolve()));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const open = PeerChannel.open(peer, url, undefined, 300, new TlsIdentity(settings(client, false)).clientOptions());
      await assert.rejects(open, (err: unknown) => err instanceof TransportError && err.reason === 'timeout');
      const within = await Promise.race([closed.then(() => true), new Promise((resolve) => setTimeout(resolve, 2000, false))]);
      assert.equal(within, true, 'the TCP connection is closed after the timeout');
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a reload of unreadable or bad files throws and keeps the material; a good one counts a generation and a new agent', () => {
    const certFile = join(dir, 'live.pem');
    const keyFile = join(dir, 'live.key');
    copyFileSync(server.certFile, certFile);
    copyFileSync(server.keyFile, keyFile);
    const identity = new TlsIdentity({ certFile, keyFile, caFile: ca.certFile, peerAuth: false });
    const before = identity.describe().certSerial;
    const agent = identity.agent();
    writeFileSync(certFile, 'not a certificate');
    assert.throws(() => identity.reload(), /holds no PEM certificate/);
    copyFileSync(client.certFile, certFile); // the key is now another certificate's
    assert.throws(() => identity.reload(), /key values mismatch/);
    assert.equal(identity.generation, 0);
    assert.equal(identity.describe().certSerial, before);
    assert.equal(identity.agent(), agent);
    copyFileSync(client.keyFile, keyFile);
    identity.reload();
    assert.equal(identity.generation, 1);
    assert.notEqual(identity.describe().certSerial, before);
    assert.notEqual(identity.agent(), agent);
  });
});
