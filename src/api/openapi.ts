// The OpenAPI 3.1 document of the HTTP API, built by @fastify/swagger from the routes' schemas and
// served at GET /openapi.json, with Swagger UI at /docs (docs/api.md, "OpenAPI"). `npm run openapi`
// writes the same document to docs/openapi.json (and the client's types from it); a test fails when
// the two differ. So the document must depend on nothing but the code: no node's settings in it.
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { ruleOf } from './auth-rules.js';
import { errorResponses, keyParams, nodeHeaderDoc, sharedSchemas, tagDocs } from './openapi-schemas.js';

export const openApiPath = '/openapi.json';
export const docsPath = '/docs';

/** Routes left out of the document: node-to-node RPC (internal, may change between versions). */
const internalPrefix = '/internal/';

interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly license: string;
}

// src/api/ and dist/api/ are both two levels below the package root.
const packageInfo = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageInfo;

const apiDescription = [
  packageInfo.description,
  '',
  'The reference, with what this document cannot say (causal contexts, siblings, quorums), is docs/api.md. Every answer carries `X-Kvorum-Node`.',
  'Every error is the `Error` body; besides the statuses listed per route, any request can get `408 request_timeout`,',
  '`417 expectation_failed` or `431 headers_too_large` when its HTTP is malformed. Node-to-node RPC (`/internal/...`) is not described here.',
  '',
  'A node started with `--auth-file` takes a client token on every route but `/health` (and `/metrics` unless `--metrics-access admin`):',
  '`Authorization: Bearer TOKEN`; `401 unauthorized` without a valid one, `403 forbidden` when its role or key prefix does not allow the request',
  '(docs/api.md, "Authentication and roles"). A node without `--auth-file` takes none.',
].join('\n');

/** The scheme of client tokens, and a requirement any route but the open ones has: a token, or none when the node has no --auth-file. */
const bearerScheme = 'bearerToken';
const tokenOptional: Record<string, string[]>[] = [{ [bearerScheme]: [] }, {}];

/** 401 and 403 (a route that may need a token answers them): taken from the catalog's entries. */
const authResponses = (() => {
  const all = errorResponses(['unauthorized', 'forbidden']);
  return { 401: all[401]!, 403: all[403]! };
})();

/** A copy of `value` with every object's keys sorted: the document's text does not depend on the order routes were registered in. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

type DocSchema = FastifySchema & { hide?: boolean; docBody?: unknown; body?: unknown; docHeaders?: unknown; headers?: unknown; security?: unknown };

/**
 * A route as the document shows it: internal routes hidden, wildcard key routes named `{key}`,
 * a `docBody` and `docHeaders` (documented, never validated) as its body and request headers.
 */
export function documentedRoute({ schema, url }: { schema?: FastifySchema; url: string }): { schema: DocSchema; url: string } {
  if (url.startsWith(internalPrefix)) return { schema: { ...schema, hide: true }, url };
  const doc: DocSchema = { ...schema };
  if (doc.docBody !== undefined) {
    doc.body = doc.docBody;
    delete doc.docBody;
  }
  if (doc.docHeaders !== undefined) {
    doc.headers = doc.docHeaders;
    delete doc.docHeaders;
  }
  if (ruleOf('GET', url) === 'open') doc.security = [];
  else if (doc.response !== undefined) doc.response = { ...authResponses, ...(doc.response as object) };
  if (doc.response !== undefined) doc.response = withNodeHeader(doc.response as Record<string, DocResponse>);
  if (url.endsWith('/kv/*')) return { schema: { ...doc, params: keyParams }, url: url.replace(/\*$/, '{key}') };
  return { schema: doc, url };
}

type DocResponse = { readonly headers?: Record<string, unknown> };

/** Every answer carries X-Kvorum-Node (app.ts's onSend): said once here rather than in every schema. */
function withNodeHeader(responses: Record<string, DocResponse>): Record<string, DocResponse> {
  return Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, { ...response, headers: { ...nodeHeaderDoc, ...response.headers } }]));
}

/** The document as served and checked in: keys sorted, 2-space JSON, a final newline. */
export const documentText = (app: FastifyInstance): string => `${JSON.stringify(app.swagger(), null, 2)}\n`;

/** Registers the document's generator (before any route: it collects them as they are added), /openapi.json and /docs. */
export function registerOpenApi(app: FastifyInstance): void {
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: packageInfo.name,
        version: packageInfo.version,
        description: apiDescription,
        license: { name: packageInfo.license, identifier: packageInfo.license },
      },
      // Relative: the node serving the document (any node of the cluster answers every route).
      servers: [{ url: '/', description: 'The node serving this document: any node of the cluster takes every route.' }],
      // A client token when the node runs with --auth-file (documented per route: /health takes none).
      security: tokenOptional,
      components: {
        securitySchemes: {
          [bearerScheme]: { type: 'http', scheme: 'bearer', description: 'A client token of `kvorum token create` (`kvt_...`), when the node runs with --auth-file.' },
        },
      },
      tags: tagDocs,
    },
    // Shared schemas keep their $id as their name under components/schemas (`Error`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: documentedRoute,
    transformObject: (document) => sortKeys('openapiObject' in document ? document.openapiObject : document.swaggerObject) as object,
  });
  app.register(swaggerUi, { routePrefix: docsPath, uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.register(async (scope) => {
    let text: string | undefined;
    scope.get(openApiPath, { schema: { hide: true } }, async (_request, reply) => {
      text ??= documentText(app);
      return reply.type('application/json; charset=utf-8').send(text);
    });
  });
}
