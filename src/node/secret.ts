// Where the cluster secret comes from (issue 15, point 3): a file (--secret-file, KVORUM_SECRET_FILE),
// the environment (KVORUM_SECRET), a config file, or, deprecated, --secret on the command line,
// where every local user can read it (ps, /proc/PID/cmdline). No message here ever quotes it.
import { readFileSync, statSync } from 'node:fs';

/** A secret file holds one line; more than this is not a secret file. */
export const secretFileBytesMax = 4096;

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

export interface SecretSources {
  /** The merged `secret` knob (flag, file or KVORUM_SECRET). */
  readonly secret: string | undefined;
  /** The merged `secretFile` knob (flag, file or KVORUM_SECRET_FILE). */
  readonly secretFile: string | undefined;
  /** Whether `secret` came from the command line. */
  readonly onCommandLine: boolean;
}

/** The secret in effect, or undefined; `warn` gets advice an operator should act on. */
export function resolveSecret(sources: SecretSources, warn: (message: string) => void): string | undefined {
  if (sources.secret !== undefined && sources.secretFile !== undefined) {
    throw new SecretError('set the secret once: --secret-file (or KVORUM_SECRET_FILE) or --secret (or KVORUM_SECRET, or the config file), not both');
  }
  if (sources.secretFile !== undefined) return readSecretFile(sources.secretFile, warn);
  if (sources.onCommandLine) {
    warn('--secret on the command line is visible to every user of this machine (ps, /proc); use --secret-file FILE or KVORUM_SECRET');
  }
  return sources.secret;
}

function readSecretFile(path: string, warn: (message: string) => void): string {
  let text: string;
  try {
    if (statSync(path).size > secretFileBytesMax) throw new Error(`larger than ${secretFileBytesMax} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SecretError(`cannot read the secret file ${path}: ${(err as Error).message}`);
  }
  // One trailing line break is the editor's, not the secret's (`echo ... > file`).
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new SecretError(`the secret file ${path} is empty`);
  if (/[\r\n]/.test(secret)) throw new SecretError(`the secret file ${path} holds more than one line`);
  if ((statSync(path).mode & 0o077) !== 0) warn(`the secret file ${path} can be read by other users: chmod 600 it`);
  return secret;
}
