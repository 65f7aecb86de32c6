// Internal RPC (docs/api.md section 4): one POST route with msgpack bodies. With a secret configured,
// the credential is checked before the body is read, so an unauthenticated call changes nothing.
import type { FastifyInstance } from 'fastify';
import type { RpcHandler } from '../core/rpc-handler.js';
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
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: rpcBodyBytesMax }, (_req, body, done) => done(null, body));

  if (opts.secret !== undefined) {
    const credentialMatches = credentialChecker(opts.secret);
    app.addHook('onRequest', async (request, reply) => {
      const presented = request.headers[rpcAuthHeader];
      if (!credentialMatches(typeof presented === 'string' ? presented : undefined)) {
        request.log.warn({ remote: request.ip }, 'internal RPC without a valid cluster credential refused');
        return sendError(reply, 'unauthorized');
      }
    });
  }

  app.post<{ Body: Buffer }>(rpcPath, async (request, reply) => {
    // The whole batch is checked before any of it runs: a refused body changes nothing.
    const batch = decodeRpcBatch(request.body);
    if (!batch.ok) {
      request.log.warn({ remote: request.ip, problem: batch.problem }, 'internal RPC body refused');
      return sendError(reply, 'bad_request', `Invalid internal RPC body: ${batch.problem}.`);
    }
    // Each request of the batch runs on its own; one failing does not fail the others.
    const outcomes = await Promise.all(
      batch.value.map((message) =>
        opts.rpc.handle(message).then(
          (ok: RpcResponse): RpcOutcome => ({ ok }),
          (err: unknown): RpcOutcome => {
            request.log.error({ err, type: message.type }, 'internal RPC failed');
            return { error: String((err as Error).message).slice(0, rpcErrorTextCharsMax) };
          },
        ),
      ),
    );
    return reply.type(rpcContentType).send(encodeRpc(outcomes));
  });
}
