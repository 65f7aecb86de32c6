// Builds one node's HTTP server: client, admin and internal RPC routes as separate plugins
// (each with its own body parsers), one error catalog, metrics on every response.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { requestHeaderBytesMax, routeParamCharsMax } from '../core/limits.js';
import { ConnectionErrors } from './connection-errors.js';
import { errorHandler, sendError } from './errors.js';
import { adminRoutes, type AdminRoutesOptions } from './admin-routes.js';
import { membershipRoutes, type MembershipRoutesOptions } from './membership-routes.js';
import { clientRoutes, nodeHeader, type ClientRoutesOptions } from './client-routes.js';
import { rpcRoutes, type RpcRoutesOptions } from './rpc-routes.js';

export type AppOptions = ClientRoutesOptions &
  AdminRoutesOptions &
  MembershipRoutesOptions &
  RpcRoutesOptions & { readonly logger: FastifyBaseLogger; readonly stopping: () => boolean };

export function buildApp(opts: AppOptions): FastifyInstance {
  const connectionErrors = new ConnectionErrors(opts.self);
  const app = Fastify({
    // Headers up to requestHeaderBytesMax, so the 64 KiB context limit is the one in force. A
    // missing Host is refused below, in the catalog's shape, not by Node with an empty 400.
    http: { maxHeaderSize: requestHeaderBytesMax, requireHostHeader: false },
    clientErrorHandler: connectionErrors.onClientError,
    loggerInstance: opts.logger,
    // Per-request log lines would dominate a busy node's output; /metrics counts requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Keys are parsed from the raw URL (api/key.ts); the router must not reject them first.
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: routeParamCharsMax },
    // Requests that arrive while stopping get our own 503 (onRequest below), in the catalog's shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // The router refuses URLs it cannot decode (e.g. /kv/%FF) before any route runs.
    frameworkErrors: (error, request, reply) => {
      reply.header(nodeHeader, opts.self); // hooks do not run for these
      if (/^(\/replica)?\/kv\//.test(request.url)) return sendError(reply, 'invalid_key', 'Invalid key: bad percent-encoding or not valid UTF-8.');
      return sendError(reply, 'bad_request', error.message);
    },
  });
  connectionErrors.install(app.server);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendError(reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));

  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendError(reply, 'bad_request', 'An HTTP/1.1 request needs a Host header.');
    }
    if (opts.stopping()) {
      reply.header('connection', 'close');
      return sendError(reply, 'shutting_down');
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader(nodeHeader)) reply.header(nodeHeader, opts.self);
    // While stopping, let no keep-alive connection outlive its last response: close would wait for it.
    if (opts.stopping()) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) };
    opts.metrics.requests.inc(labels);
    opts.metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });

  app.register(adminRoutes, opts);
  app.register(membershipRoutes, opts);
  app.register(clientRoutes, opts);
  app.register(rpcRoutes, opts);
  return app;
}
