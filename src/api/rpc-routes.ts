// Internal RPC (docs/api.md section 4): one POST route with msgpack bodies. With a secret configured,
// the credential is checked before the body is read, so an unauthenticated call changes nothing.
import type { FastifyInstance } from 'fastify';
import type { RpcHandler } from '../core/rpc-handler.js';
import { FailureLog } from '../core/failure-log.js';
import { rpcBodyBytesMax, rpcErrorTextCharsMax } from '../core/limits.js';
import type { RpcResponse } from '../core/rpc.js';
import { credentialChecker, rpcAuthHeader } from '../transport/auth.js';
import { decodeRpcBatch, encodeRpc, rpcContentType, type RpcOutcome } from '../transport/codec.js';
import { rpcPath } from '../transport/http-transport.js';
import { sendError } from './errors.js';

export interface RpcRoutesOptions {
  readonly rpc: RpcHandler;
  readonly secret: string | undefined;
}

export async function rpcRoutes(app: FastifyInstance, opts: RpcRoutesOptions): Promise<void> {
  // Per request, these repeat as fast as a peer sends: logged by class, conditions rate-limited.
  const failures = new FailureLog({ log: app.log, now: () => performance.now() });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: rpcBodyBytesMax }, (_req, body, done) => done(null, body));

  if (opts.secret !== undefined) {
    const credentialMatches = credentialChecker(opts.secret);
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
    // Each request of the batch runs on its own; one failing does not fail the others.
    const outcomes = await Promise.all(
      batch.value.map((message) =>
        opts.rpc.handle(message).then(
          (ok: RpcResponse): RpcOutcome => ({ ok }),
          (err: unknown): RpcOutcome => {
            failures.failed('internal RPC', err, { type: message.type });
            return { error: String((err as Error).message).slice(0, rpcErrorTextCharsMax) };
          },
        ),
      ),
    );
    return reply.type(rpcContentType).send(encodeRpc(outcomes));
  });
}
