// `kvorum token create|revoke|list` (docs/api.md, "Authentication and roles"): manages the auth
// file of --auth-file. create prints the new token once on stdout (nothing else goes there) and
// stores only its salted hash; a running node applies any change within about a second.
// Exit codes: 0 done, 1 no such token (revoke), 2 usage error, 3 the auth file cannot be read or written.
import { parseArgs } from 'node:util';
import { keyBytesMax, tokenExpiresInSecondsMax, tokenNoteCharsMax } from '../core/limits.js';
import { ConfigError } from '../node/config.js';
import { AuthFileError, readAuthFile, roles, writeAuthFile, type AuthFile, type Role } from '../auth/token-file.js';
import { createToken, parseDurationSeconds, parseToken } from '../auth/tokens.js';

const exitOk = 0;
const exitNotFound = 1;
const exitFileError = 3;

export const tokenUsage = [
  'kvorum token create --role read|write|admin [--prefix P] [--expires-in D] [--note TEXT] --auth-file FILE',
  'kvorum token revoke --id ID|TOKEN --auth-file FILE',
  'kvorum token list --auth-file FILE [--json]',
];

const options = {
  'auth-file': { type: 'string' },
  role: { type: 'string' },
  prefix: { type: 'string' },
  'expires-in': { type: 'string' },
  note: { type: 'string' },
  id: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>['values'];

function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new ConfigError(`--${flag} is required: ${usage}`);
  return value;
}

function createSpec(values: Values, nowMs: number) {
  const role = required(values.role, 'role', tokenUsage[0]!);
  if (!(roles as readonly string[]).includes(role)) throw new ConfigError(`--role must be read, write or admin; got "${role}"`);
  if (values.prefix !== undefined) {
    if (role === 'admin') throw new ConfigError('an admin token reaches every route; --prefix applies to read and write tokens only');
    if (values.prefix === '' || Buffer.byteLength(values.prefix, 'utf8') > keyBytesMax) throw new ConfigError(`--prefix must be 1..${keyBytesMax} bytes`);
  }
  let expiresAtMs: number | undefined;
  if (values['expires-in'] !== undefined) {
    const seconds = parseDurationSeconds(values['expires-in']);
    if (seconds === undefined || seconds < 1 || seconds > tokenExpiresInSecondsMax) {
      throw new ConfigError(`--expires-in must be N seconds or Ns, Nm, Nh, Nd (1 s..${tokenExpiresInSecondsMax / 86_400}d); got "${values['expires-in']}"`);
    }
    expiresAtMs = nowMs + seconds * 1000;
  }
  if (values.note !== undefined && values.note.length > tokenNoteCharsMax) throw new ConfigError(`--note is at most ${tokenNoteCharsMax} characters`);
  return { role: role as Role, prefix: values.prefix, expiresAtMs, note: values.note };
}

function create(path: string, values: Values): number {
  const nowMs = Date.now();
  const spec = createSpec(values, nowMs);
  const file = readAuthFile(path, true);
  const { token, entry } = createToken(spec, nowMs);
  writeAuthFile(path, { ...file, tokens: [...file.tokens, entry] });
  process.stdout.write(`${token}\n`);
  process.stderr.write(`kvorum token: created ${entry.id} (${entry.role}${entry.prefix === undefined ? '' : `, prefix ${JSON.stringify(entry.prefix)}`}${entry.expiresAt === undefined ? '' : `, expires ${entry.expiresAt}`}) in ${path}; the token is shown only now\n`);
  return exitOk;
}

function revoke(path: string, values: Values): number {
  const given = required(values.id, 'id', tokenUsage[1]!);
  // The full token is accepted too (its id is part of it); it is never printed back.
  const id = parseToken(given)?.id ?? given;
  const file = readAuthFile(path);
  const tokens = file.tokens.filter((t) => t.id !== id);
  if (tokens.length === file.tokens.length) {
    process.stderr.write(`kvorum token: no token ${/^[0-9a-f]{16}$/.test(id) ? id : '(as given)'} in ${path}\n`);
    return exitNotFound;
  }
  writeAuthFile(path, { ...file, tokens });
  process.stderr.write(`kvorum token: revoked ${id}; running nodes refuse it within about a second\n`);
  return exitOk;
}

function list(path: string, json: boolean): number {
  const file: AuthFile = readAuthFile(path);
  const nowMs = Date.now();
  const rows = file.tokens.map(({ id, role, prefix, createdAt, expiresAt, note }) => ({
    id, role, prefix: prefix ?? null, createdAt, expiresAt: expiresAt ?? null, expired: expiresAt !== undefined && Date.parse(expiresAt) <= nowMs, note: note ?? null,
  }));
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return exitOk;
  }
  const table = [['ID', 'ROLE', 'PREFIX', 'CREATED', 'EXPIRES', 'NOTE'], ...rows.map((r) => [r.id, r.role, r.prefix === null ? '-' : JSON.stringify(r.prefix), r.createdAt, r.expiresAt === null ? 'never' : `${r.expiresAt}${r.expired ? ' (expired)' : ''}`, r.note ?? ''])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write(table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  return exitOk;
}

export function token(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  const [sub, ...rest] = positionals;
  if (rest.length > 0 || !['create', 'revoke', 'list'].includes(sub ?? '')) throw new ConfigError(`usage:\n  ${tokenUsage.join('\n  ')}`);
  const path = required(values['auth-file'], 'auth-file', tokenUsage.find((u) => u.includes(`token ${sub!}`))!);
  try {
    if (sub === 'create') return create(path, values);
    if (sub === 'revoke') return revoke(path, values);
    return list(path, values.json === true);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const problem = err instanceof AuthFileError ? err.message : `cannot write auth file ${path}: ${(err as Error).message}`;
    process.stderr.write(`kvorum token: ${problem}\n`);
    return exitFileError;
  }
}
