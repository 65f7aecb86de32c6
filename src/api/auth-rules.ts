// Which token a route needs (docs/api.md, "Authentication and roles"). Every route the app
// registers must have a rule here: app.ts refuses to build otherwise (auth-hook.ts, onRoute), so a
// route added without one fails every test instead of being silently open or closed.
import type { Grant } from '../auth/tokens.js';
import type { Role } from '../auth/token-file.js';

/**
 * - open: no token (health; the API's documentation and the web console's files, which hold no node's data and are published);
 * - internal: node-to-node RPC, guarded by the cluster secret instead (rpc-routes.ts);
 * - metrics: open, or admin with --metrics-access admin;
 * - any: any valid token (an unmatched route then gets its 404; `/kv/` its invalid_key);
 * - key-read / key-write: a token of that role or above whose prefix the key starts with;
 * - listing: read or above, the listing's `prefix` starting with the token's prefix;
 * - batch: write or above; then each op (role and key) is checked by the batch route (batchRefusal);
 * - admin: an admin token.
 */
export type AuthRule = 'open' | 'internal' | 'metrics' | 'any' | 'key-read' | 'key-write' | 'listing' | 'batch' | 'admin';

const byUrl: Readonly<Record<string, AuthRule>> = {
  '/health': 'open',
  '/openapi.json': 'open',
  '/metrics': 'metrics',
  '/kv': 'listing',
  '/kv/': 'any',
  '/batch': 'batch',
  '/cluster': 'admin',
  '/replica/kv/*': 'admin',
  '/admin/join': 'admin',
  '/admin/leave': 'admin',
  '/admin/replace': 'admin',
  '/admin/remove': 'admin',
  '/admin/clear': 'admin',
  '/admin/commit': 'admin',
  '/admin/plan': 'admin',
  '/admin/transfers': 'admin',
  '/admin/transfers/cancel': 'admin',
  '/admin/transfers/local': 'admin',
  '/admin/transfer-limits': 'admin',
  '/admin/partition-keys': 'admin',
  '/admin/overview': 'admin',
  '/admin/overview/local': 'admin',
  '/admin/backup': 'admin',
};

/** The rule of a request to route `url` (fastify's pattern; undefined: no route matched), or undefined when the route has none. */
export function ruleOf(method: string, url: string | undefined): AuthRule | undefined {
  if (url === undefined) return 'any';
  if (url === '/kv/*') return method === 'GET' || method === 'HEAD' ? 'key-read' : method === 'PUT' || method === 'DELETE' ? 'key-write' : undefined;
  if (url.startsWith('/internal/')) return 'internal';
  // Swagger UI's page and its static files (@fastify/swagger-ui registers several routes under it).
  if (url === '/docs' || url.startsWith('/docs/')) return 'open';
  // The web console's page, scripts and styles: no data (the page asks /admin/overview with the user's token).
  if (url === '/ui' || url === '/ui/:file') return 'open';
  return byUrl[url];
}

const rank: Readonly<Record<Role, number>> = { read: 0, write: 1, admin: 2 };

export const hasRole = (grant: Grant, role: Role): boolean => rank[grant.role] >= rank[role];

/** Whether a token of `grant` may touch `key` (its prefix, when it has one, starts the key). */
export const coversKey = (grant: Grant, key: string): boolean => grant.prefix === undefined || key.startsWith(grant.prefix);
