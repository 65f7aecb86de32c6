// The OpenAPI document without a running node, for `npm run openapi` (scripts/openapi.mjs): the
// app of buildApp with inert parts. Building it registers every route and never calls a handler,
// so none of these parts is used; one that is throws, naming itself.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, type AppOptions } from './app.js';
import { documentText } from './openapi.js';
import { asNodeId } from '../core/types.js';

function inert<T>(name: string): T {
  return new Proxy({}, { get: (_target, property) => { throw new Error(`openapi-document: ${name}.${String(property)} used while only building the document`); } }) as T;
}

/** buildApp's app with inert parts: every route registered (at ready()), none runnable. Also what tests list the routes of. */
export function buildInertApp(): FastifyInstance {
  const options: AppOptions = {
    logger: pino({ level: 'silent' }),
    stopping: () => false,
    self: asNodeId('openapi'),
    coordinator: inert('coordinator'),
    listing: inert('listing'),
    n: 3,
    defaults: { r: 'quorum', w: 'quorum' },
    valueBytesMax: 1,
    metrics: inert('metrics'),
    ring: inert('ring'),
    membership: inert('membership'),
    transfers: inert('transfers'),
    keysIn: inert('keysIn'),
    memberStatus: inert('memberStatus'),
    memberPhi: inert('memberPhi'),
    hintCounts: inert('hintCounts'),
    antiEntropyExchanges: inert('antiEntropyExchanges'),
    ready: () => false,
    replica: inert('replica'),
    rpc: inert('rpc'),
    secret: undefined,
  };
  return buildApp(options);
}

/** The text of the document GET /openapi.json serves, built from the code alone. */
export async function openApiDocumentText(): Promise<string> {
  const app = buildInertApp();
  try {
    await app.ready();
    return documentText(app);
  } finally {
    await app.close();
  }
}
