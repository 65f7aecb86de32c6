// Internal RPC (docs/api.md section 4): the peer channel (rpc-channel.ts), and one POST route with
// msgpack bodies for peers without it. With a secret configured,
// the credential is checked before the body is read, so an unauthenticated call changes nothing.
import type { FastifyInstance } from 'fastify';
import type { RpcHandler } from '../core/rpc-handler.js';
import { FailureLog } from '../core/failure-log.js';
import { rpcBodyBytesMax } from '../core/limits.js';
import { credentialChecker, rpcAuthHeader } from '../transport/auth.js';
import { decodeRpcBatch, encodeRpc, rpcContentType } from '../transport/codec.js';
import { rpcPath } from '../transport/peer-transport.js';
import type { TLSSocket } from 'node:tls';
import type { TlsIdentity } from '../transport/tls-identity.js';
import { sendError } from './errors.js';
import { runBatch } from './rpc-batch.js';
import { serveChannels } from './rpc-channel.js';

export interface RpcRoutesOptions {
  readonly rpc: RpcHandler;
  readonly secret: string | undefined;
  /** This node's id, for the raw answers to refused channel upgrades. */
  readonly self?: string;
  readonly stopping?: () => boolean;
  /** With --tls-peer-auth, internal RPC is refused over a connection without a certificate the CA signed. */
  readonly tls?: TlsIdentity;
}

/** A TLS socket whose client certificate the CA signed (node's check, made during the handshake). */
const certifiedPeer = (socket: unknown): boolean => (socket as TLSSocket).authorized === true;

export async function rpcRoutes(app: FastifyInstance, opts: RpcRoutesOptions): Promise<void> {
  // Per request, these repeat as fast as a peer sends: logged by class, conditions rate-limited.
  const failures = new FailureLog({ log: app.log, now: () => performance.now() });
  const credentialMatches = opts.secret === undefined ? () => true : credentialChecker(opts.secret);
  const trustedPeer = opts.tls?.settings.peerAuth === true ? certifiedPeer : () => true;
  const closeChannels = serveChannels(app.server, {
    rpc: opts.rpc,
    self: opts.self ?? '',
    failures,
    authorized: credentialMatches,
    trustedPeer,
    stopping: opts.stopping ?? (() => false),
  });
  // Before the server closes: it waits for every socket it accepted, channels included.
  app.addHook('preClose', closeChannels);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: rpcBodyBytesMax }, (_req, body, done) => done(null, body));

  // Before the credential check and before the body is read: the peer's identity comes first.
  app.addHook('onRequest', (request, reply, done) => {
    if (trustedPeer(request.raw.socket)) return done();
    failures.report('rpc_untrusted_peer', 'internal RPC without a client certificate the CA signed refused', { remote: request.ip });
    void sendError(reply, 'peer_certificate_required');
  });
  if (opts.secret !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      const presented = request.headers[rpcAuthHeader];
      if (!credentialMatches(typeof presented === 'string' ? presented : undefined)) {
        failures.report('rpc_unauthorized', 'internal RPC without a valid cluster credential refused', { remote: request.ip });
        return sendError(reply, 'unauthorized');
      }
    });
  }

  app.post<{ Body: Buffer }>(rpcPath, async (request, reply) => {
    // The whole batch is checked before any of it runs: a refused body changes nothing.
    const batch = decodeRpcBatch(request.body);
    if (!batch.ok) {
      failures.report('rpc_refused', 'internal RPC body refused', { remote: request.ip, problem: batch.problem });
      return sendError(reply, 'bad_request', `Invalid internal RPC body: ${batch.problem}.`);
    }
    return reply.type(rpcContentType).send(encodeRpc(await runBatch(opts.rpc, batch.value, failures)));
  });
}
