// Builds one node's HTTP server: client, admin and internal RPC routes as separate plugins
// (each with its own body parsers), one error catalog, metrics on every response.
import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  httpHeadersTimeoutMsDefault,
  httpKeepAliveTimeoutMsDefault,
  httpRequestTimeoutMsDefault,
  httpTimeoutCheckIntervalMs,
  requestHeaderBytesMax,
  routeParamCharsMax,
} from '../core/limits.js';
import { ConnectionErrors } from './connection-errors.js';
import { errorHandler, sendError } from './errors.js';
import { adminRoutes, type AdminRoutesOptions } from './admin-routes.js';
import { accessLogLine, requestIdHeader, requestIdOf } from './request-log.js';
import { backupRoute, type BackupRouteOptions } from './backup-route.js';
import { installAuth, type AuthOptions } from './auth-hook.js';
import { batchRoutes, rewriteUrl } from './batch-routes.js';
import { membershipRoutes, type MembershipRoutesOptions } from './membership-routes.js';
import { clientRoutes, nodeHeader, type ClientRoutesOptions } from './client-routes.js';
import { listRoutes, type ListRoutesOptions } from './list-routes.js';
import { OverloadGuard, type OverloadSettings } from './overload.js';
import { registerOpenApi } from './openapi.js';
import { overviewRoutes, type OverviewRoutesOptions } from './overview-routes.js';
import { uiRoutes } from './ui-routes.js';
import { rpcRoutes, type RpcRoutesOptions } from './rpc-routes.js';
import type { TlsIdentity } from '../transport/tls-identity.js';

export type AppOptions = ClientRoutesOptions &
  ListRoutesOptions &
  AdminRoutesOptions &
  BackupRouteOptions &
  MembershipRoutesOptions &
  OverviewRoutesOptions &
  RpcRoutesOptions & {
    readonly logger: FastifyBaseLogger;
    readonly stopping: () => boolean;
    /** With it the server speaks HTTPS only (docs/api.md, "TLS"). */
    readonly tls?: TlsIdentity;
    /** Overload protection and HTTP timeouts; absent: no shedding, default timeouts. */
    readonly server?: ServerLimits;
    /** Client tokens (--auth-file) and who may read /metrics; absent: every client and admin route open. */
    readonly auth?: AuthOptions;
    /** --access-log: one info line per answered request (request-log.ts). */
    readonly accessLog?: boolean;
  };

/** Overload protection and the HTTP server's timeouts (docs/api.md, Overload); absent: no shedding, default timeouts. */
export interface ServerLimits extends OverloadSettings {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/**
 * The timeouts that free a connection a slow or idle client holds (slowloris). Set on the server
 * itself, not through fastify's `http` options, so an HTTPS server (made from `https` options) gets
 * them too. The port is shared, so they apply to peers' connections as well (an upgraded channel
 * is no longer an HTTP request: none of them applies to it).
 */
function setTimeouts(server: Server, limits: ServerLimits | undefined): void {
  server.requestTimeout = limits?.requestTimeoutMs ?? httpRequestTimeoutMsDefault;
  // Node wants the headers timeout no longer than the request timeout.
  server.headersTimeout = Math.min(limits?.headersTimeoutMs ?? httpHeadersTimeoutMsDefault, server.requestTimeout);
  server.keepAliveTimeout = limits?.keepAliveTimeoutMs ?? httpKeepAliveTimeoutMsDefault;
  // How often those are checked. Node's default, 30 s, would let a 10 s timeout run to 40 s. Only a
  // constructor option in the types, but Node keeps it on the server and reads it when it starts
  // listening (the slowloris test fails if that changes).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = httpTimeoutCheckIntervalMs;
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const connectionErrors = new ConnectionErrors(opts.self);
  // Headers up to requestHeaderBytesMax, so the 64 KiB context limit is the one in force. A
  // missing Host is refused below, in the catalog's shape, not by Node with an empty 400.
  const httpOptions = { maxHeaderSize: requestHeaderBytesMax, requireHostHeader: false };
  // Fastify gives an https server its `https` options only: the HTTP ones go in with the TLS ones.
  const serverOptions = opts.tls ? { https: { ...httpOptions, ...opts.tls.serverOptions() } } : { http: httpOptions };
  const app = Fastify({
    ...(serverOptions as { http: typeof httpOptions }),
    clientErrorHandler: connectionErrors.onClientError,
    loggerInstance: opts.logger,
    // Per-request log lines would dominate a busy node's output; /metrics counts requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (it costs an object and a bindings copy each): the only
    // request-time log line, an unhandled error, names its route and method itself.
    childLoggerFactory: (logger) => logger,
    // X-Request-Id: the client's when it is well-formed, else a new one (request-log.ts); echoed in onSend.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Keys are parsed from the raw URL (api/key.ts); the router must not reject them first.
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: routeParamCharsMax },
    // A POST /batch op's URL as built (batch-routes.ts); every other request's URL is left as it came.
    rewriteUrl,
    // Requests that arrive while stopping get our own 503 (onRequest below), in the catalog's shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // The router refuses URLs it cannot decode (e.g. /kv/%FF) before any route runs.
    frameworkErrors: (error, request, reply) => {
      reply.header(nodeHeader, opts.self); // hooks do not run for these
      reply.header(requestIdHeader, request.id);
      if (/^(\/replica)?\/kv\//.test(request.url)) return sendError(reply, 'invalid_key', 'Invalid key: bad percent-encoding or not valid UTF-8.');
      return sendError(reply, 'bad_request', error.message);
    },
  });
  connectionErrors.install(app.server);
  setTimeouts(app.server, opts.server);
  // No server.maxConnections: peers' channels and /health come through the same port, and a full
  // server drops new sockets before reading a byte, so it cannot tell them from a flood. The
  // timeouts above free what slow clients hold; the in-flight limit bounds the work.
  const guard = overloadGuard(app, opts);
  // Response schemas document answers (openapi.ts); they never shape them: every JSON answer is
  // JSON.stringify of what the route built, as when no route had a response schema.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendError(reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));

  addHooks(app, opts, guard);

  registerOpenApi(app);
  app.register(adminRoutes, opts);
  app.register(backupRoute, opts);
  app.register(membershipRoutes, opts);
  app.register(clientRoutes, opts);
  app.register(batchRoutes, opts);
  app.register(listRoutes, opts);
  app.register(rpcRoutes, opts);
  app.register(overviewRoutes, opts);
  app.register(uiRoutes);
  return app;
}

/** The overload guard of a node's app (none without opts.server: the OpenAPI document's app), stopped with it. */
function overloadGuard(app: FastifyInstance, opts: AppOptions): OverloadGuard | undefined {
  if (!opts.server) return undefined;
  const guard = new OverloadGuard(opts.server, (reason) => opts.metrics.overload.shed(reason));
  opts.metrics.overload.watch(guard);
  app.server.once('listening', () => guard.start());
  app.addHook('onClose', (_app, done) => {
    guard.stop();
    done();
  });
  return guard;
}

function addHooks(app: FastifyInstance, opts: AppOptions, guard: OverloadGuard | undefined): void {
  // Hooks in callback form: every request runs them, and an async hook costs a promise and a
  // microtask each. A hook that answers does not call done.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return void sendError(reply, 'bad_request', 'An HTTP/1.1 request needs a Host header.');
    }
    if (opts.stopping()) {
      reply.header('connection', 'close');
      return void sendError(reply, 'shutting_down');
    }
    if (guard && !guard.admit(request, reply)) return;
    done();
  });
  // After the checks above (a stopping node answers shutting_down to anyone), before every route.
  installAuth(app, opts.auth ?? { tokens: undefined, metricsAccess: 'open' });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!reply.hasHeader(nodeHeader)) reply.header(nodeHeader, opts.self);
    reply.header(requestIdHeader, request.id);
    // While stopping, let no keep-alive connection outlive its last response: close would wait for it.
    if (opts.stopping()) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    opts.metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    if (opts.accessLog) opts.logger.info(accessLogLine(request, reply), 'request');
    done();
  });
}
