// The auth file of --auth-file (docs/api.md, "Authentication and roles"): JSON, versioned, one
// entry per token holding its id, role, optional key prefix and expiry, and a salted hash of its
// secret, never the secret. The file is input like any other: every read is checked with zod.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { z } from 'zod';
import { authFileBytesMax, authTokensMax, keyBytesMax, tokenNoteCharsMax } from '../core/limits.js';

export const roles = ['read', 'write', 'admin'] as const;
export type Role = (typeof roles)[number];

export const authFileVersion = 1;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64');
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date');

export const tokenEntrySchema = z
  .object({
    id: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lower-case hex digits'),
    role: z.enum(roles),
    prefix: z.string().min(1).refine((p) => Buffer.byteLength(p, 'utf8') <= keyBytesMax, `must be at most ${keyBytesMax} bytes`).optional(),
    salt: base64,
    hash: base64.refine((h) => Buffer.from(h, 'base64').length === 32, 'must be a 32-byte digest'),
    createdAt: isoDate,
    expiresAt: isoDate.optional(),
    note: z.string().max(tokenNoteCharsMax).optional(),
  })
  .strict()
  // An admin token reaches routes with no key (/cluster, membership): a prefix could not limit it.
  .refine((e) => !(e.role === 'admin' && e.prefix !== undefined), 'an admin token cannot have a prefix');

export type TokenEntry = z.infer<typeof tokenEntrySchema>;

export const authFileSchema = z
  .object({
    version: z.literal(authFileVersion),
    tokens: z.array(tokenEntrySchema).max(authTokensMax),
  })
  .strict()
  .refine((f) => new Set(f.tokens.map((t) => t.id)).size === f.tokens.length, 'token ids must be unique');

export type AuthFile = z.infer<typeof authFileSchema>;

export const emptyAuthFile = (): AuthFile => ({ version: authFileVersion, tokens: [] });

/** Why an auth file was refused, for the operator (never holds a secret: the file has none). */
export class AuthFileError extends Error {
  override readonly name = 'AuthFileError';
}

/** Parses an auth file's text; throws AuthFileError saying what is wrong and where. */
export function parseAuthFile(text: string, path: string): AuthFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AuthFileError(`auth file ${path} is not JSON: ${(err as Error).message}`);
  }
  const parsed = authFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new AuthFileError(`auth file ${path} is not a valid auth file${where}: ${issue?.message ?? 'refused'}`);
  }
  return parsed.data;
}

/** Reads and checks an auth file; `missingOk` gives an empty one when the file does not exist. */
export function readAuthFile(path: string, missingOk = false): AuthFile {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') return emptyAuthFile();
    throw new AuthFileError(`cannot read auth file ${path}: ${(err as Error).message}`);
  }
  if (size > authFileBytesMax) throw new AuthFileError(`auth file ${path} is ${size} bytes, over ${authFileBytesMax}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuthFileError(`cannot read auth file ${path}: ${(err as Error).message}`);
  }
  return parseAuthFile(text, path);
}

/**
 * Writes the file atomically: a temporary file beside it (mode 0600: it holds hashes, not secrets,
 * but nobody else needs them), flushed, then renamed over it. A node reading it sees the old file
 * or the new one, never half of one.
 */
export function writeAuthFile(path: string, file: AuthFile): void {
  const text = `${JSON.stringify(authFileSchema.parse(file), null, 2)}\n`;
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
