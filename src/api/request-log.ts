// Request ids and the opt-in access log (docs/api.md section 3, Request ids and the access log).
// A client's X-Request-Id is kept when it is a short run of safe characters, so an operator can
// follow one request from a client's log into the node's; anything else is replaced, never logged.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessLogUrlCharsMax, requestIdCharsMax } from '../core/limits.js';
import { nodeHeader } from './client-routes.js';

export const requestIdHeader = 'x-request-id';

/** Characters a client's request id may use: nothing a log reader or a header could misread. */
const requestIdPattern = new RegExp(`^[A-Za-z0-9._~:/+=-]{1,${requestIdCharsMax}}$`);

/** The client's X-Request-Id if well-formed (one header, 1..128 safe characters), else a new UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[requestIdHeader];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/**
 * One access-log line's fields. The path only (no query string), cut to accessLogUrlCharsMax; never
 * a header (Authorization least of all) or a body. `coordinator`: the node that coordinated a /kv
 * request (X-Kvorum-Node), which is this node unless it forwarded the request.
 */
export function accessLogLine(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const path = request.url.split('?', 1)[0] ?? '';
  return {
    requestId: request.id,
    method: request.method,
    route: request.routeOptions.url ?? null,
    path: path.length > accessLogUrlCharsMax ? `${path.slice(0, accessLogUrlCharsMax)}...` : path,
    status: reply.statusCode,
    latencyMs: Math.round(reply.elapsedTime * 10) / 10,
    coordinator: reply.getHeader(nodeHeader) ?? null,
    remoteAddress: request.ip,
  };
}
