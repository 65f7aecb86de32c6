// Maps every error to the catalog's JSON shape: {"error", "message", ...details}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { KvError, errorCatalog, type ErrorCode } from '../core/errors.js';

export function sendError(reply: FastifyReply, code: ErrorCode, message?: string, details: Record<string, unknown> = {}): FastifyReply {
  return reply
    .status(errorCatalog[code].status)
    .type('application/json')
    .send({ error: code, message: message ?? errorCatalog[code].message, ...details });
}

/** Which catalog code a query-string field's validation failure belongs to. */
function codeForField(field: string): ErrorCode {
  if (field.includes('timeout')) return 'invalid_timeout';
  if (field.includes('ttl')) return 'invalid_ttl';
  return /\/p?[rw]\b/.test(field) ? 'invalid_quorum' : 'bad_request';
}

export function errorHandler(error: FastifyError | KvError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof KvError) return sendError(reply, error.code, error.message, { ...error.details });
  const fe = error as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'value_too_large');
  if (fe.validation && fe.validationContext === 'querystring') {
    const v = fe.validation[0];
    const field = `${v?.instancePath ?? ''} ${String(v?.params?.['missingProperty'] ?? '')}`;
    return sendError(reply, codeForField(field), `Invalid query: ${fe.message}.`);
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Malformed requests fastify itself rejects (bad headers, bad URL...): never a 500.
    return sendError(reply, 'bad_request', fe.message);
  }
  request.log.error({ err: error, route: request.routeOptions.url, method: request.method }, 'unhandled error');
  return sendError(reply, 'internal_error');
}
