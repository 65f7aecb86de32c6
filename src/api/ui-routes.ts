// The web console (docs/api.md section 3, "Web console"): GET /ui and its static files, plain
// HTML + ES modules + CSS from src/ui/ (the build copies them to dist/ui/). They hold no data: the
// page reads GET /admin/overview with the token the user gives it. Read once at start, from a
// fixed list, so no URL can name another file.
import { readFileSync, statSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { uiFileBytesMax } from '../core/limits.js';
import { sendError } from './errors.js';
import { errorResponses, tagNames } from './openapi-schemas.js';

export const uiPath = '/ui';

/** The console's files by name, with their content types. */
const uiFiles: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/**
 * Only this origin's scripts, styles and requests; no inline script or style, no frames, no
 * forms, no plugins: the page shows what members and hints are named, which a hostile member
 * or client could choose.
 */
export const uiContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// src/api/ and dist/api/ are both one level below the directory holding ui/.
const uiDir = new URL('../ui/', import.meta.url);

function readUiFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(uiFiles)) {
    const url = new URL(name, uiDir);
    if (statSync(url).size > uiFileBytesMax) throw new Error(`web console file ${url.pathname} is larger than ${uiFileBytesMax} bytes`);
    files.set(name, readFileSync(url));
  }
  return files;
}

const text = { schema: { type: 'string' } };

const pageSchema = (operationId: string, summary: string, description: string, types: readonly string[], extra: object = {}) => ({
  operationId,
  summary,
  description,
  tags: [tagNames.admin],
  ...extra,
  response: { 200: { description: 'The file.', content: Object.fromEntries(types.map((type) => [type, text])) }, ...errorResponses(types.length > 1 ? ['not_found'] : []) },
});

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const files = readUiFiles();
  const send = (reply: FastifyReply, name: string) => {
    const body = files.get(name);
    if (body === undefined) return sendError(reply, 'not_found', `No file ${name} in the web console.`);
    return reply
      .header('content-security-policy', uiContentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type(uiFiles[name]!)
      .send(body);
  };
  const pageDoc = 'The console\'s page (no data: it polls GET /admin/overview with the token it asks for).';
  app.get(uiPath, { schema: pageSchema('console', 'Web console', pageDoc, ['text/html']) }, (_request, reply) => send(reply, 'index.html'));
  const fileParams = { params: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] } };
  app.get(`${uiPath}/:file`, { schema: pageSchema('consoleFile', 'Web console file', 'A script or style sheet of the console (`console.js`, `render.js`, `console.css`); `/ui/` is the page.', ['text/javascript', 'text/css', 'text/html'], fileParams) }, (request, reply) => {
    const { file } = request.params as { file: string };
    // `/ui/` is the page too (people add the slash); a name not in the list is not found.
    return send(reply, file === '' ? 'index.html' : Object.hasOwn(uiFiles, file) ? file : '');
  });
}
