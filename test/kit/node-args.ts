// The one way every harness (the tests' cluster, the benches through it, jepsen's proxied cluster)
// spells a node's `kvorum start` command line, so a new flag or a renamed one changes one place.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cliPath } from './paths.js';

export interface KvorumStartSpec {
  readonly id: string;
  readonly port: number;
  readonly dataDir: string;
  /** The address --listen binds (default 127.0.0.1). */
  readonly host?: string;
  /** --advertise URL, when given. */
  readonly advertise?: string;
  /** The --peers value: `id=url,...` for every node, this one included (a new cluster's node)... */
  readonly peers?: string;
  /** ...or the --join URL of a member (a node joining an existing cluster). */
  readonly join?: string;
  readonly n?: number;
  readonly secret?: string;
  /** Flags after the ones above (knobs, log level). */
  readonly extraArgs?: readonly string[];
  /** Node's own flags, before the script (e.g. `--import` of a test hook). */
  readonly execArgs?: readonly string[];
}

/** The node arguments of one `kvorum start` process listening on 127.0.0.1:`port` (or `host`:`port`). */
export function kvorumStartArgs(spec: KvorumStartSpec): string[] {
  const args = [...(spec.execArgs ?? []), cliPath, 'start', '--id', spec.id, '--listen', `${spec.host ?? '127.0.0.1'}:${spec.port}`, '--data-dir', spec.dataDir];
  if (spec.advertise !== undefined) args.push('--advertise', spec.advertise);
  if (spec.peers !== undefined) args.push('--peers', spec.peers);
  if (spec.join !== undefined) args.push('--join', spec.join);
  if (spec.n !== undefined) args.push('--n', String(spec.n));
  // The secret goes in a file beside the data directory, never on the command line (ps shows it).
  if (spec.secret !== undefined) args.push('--secret-file', writeSecretFile(spec));
  return [...args, ...(spec.extraArgs ?? [])];
}

function writeSecretFile(spec: KvorumStartSpec): string {
  const path = join(dirname(spec.dataDir), `${spec.id}.secret`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, spec.secret!, { mode: 0o600 });
  return path;
}
