// The `kvorum` usage text; the `kvorum start` part is generated from the knob table.
import { defaultText, knobs, type Knob } from '../node/knobs.js';
import { dataUsage, urlDefault } from './data.js';
import { tokenUsage } from './token.js';

const flagColumn = 34;

function knobLine(knob: Knob): string {
  const notes = [knob.key, `default ${defaultText(knob)}`];
  if (knob.kind === 'integer') notes.push(`${knob.min}..${knob.max} ${knob.unit}`);
  if (knob.kind === 'number') notes.push(`${knob.min}..${knob.max}`);
  if (knob.kind === 'enum' && !knob.arg.includes('|')) notes.push(knob.values.join('|'));
  if (knob.kind === 'text' && knob.patternText) notes.push(knob.patternText);
  if (knob.env) notes.push(`env ${knob.env} when unset`);
  if (knob.old) notes.push(`old name --${knob.old.flag}`);
  return `${`  --${knob.flag} ${knob.arg}`.padEnd(flagColumn)} ${knob.help}  [${notes.join('; ')}]`;
}

function startUsage(): string {
  const lines = (knobs as readonly Knob[]).map(knobLine);
  lines.push(`${'  --config FILE'.padEnd(flagColumn)} a JSON config file with any of the keys above`);
  lines.push(`${'  --check-config'.padEnd(flagColumn)} validate the configuration, print it (JSON, no secrets), start nothing; exit 0 valid, 1 not`);
  lines.push(`${'  -h, --help'.padEnd(flagColumn)} print this usage`);
  return `kvorum start flags, each with [config-file key; default; bounds].
Flags win over --config FILE, which wins over config/default.json:
${lines.join('\n')}`;
}

export function usage(): string {
  return `usage:
  kvorum start --id ID [flags below]
  kvorum cluster [--nodes K] [--base-port P] [--data-dir D] [--host H] [-- extra start flags]
  kvorum status --url URL [--token T]
  kvorum admin backup --url URL --out FILE [--token T]
  kvorum restore --from FILE --data-dir DIR [--id ID] [--force] [--tombstone-grace-ms MS] [--allow-older-than-grace]
${tokenUsage.map((u) => `  ${u}`).join('\n')}
${dataUsage()}

  start    run one node in the foreground (SIGINT/SIGTERM stop it cleanly)
  cluster  run K local nodes as child processes on ports P..P+K-1 (default 3 nodes, 7001, ./data)
  status   print the cluster as the node at URL sees it
  backup   (kvorum admin backup) download an online copy of the node's database to FILE, checked
  restore  put a backup in place as a stopped node's database (checks it first; see docs/api.md, Backups)
  token    create a client token (printed once; the auth file keeps its hash), revoke one, list them
  get      print KEY's value (raw bytes on stdout; content type and context on stderr), or its siblings
  put      write VALUE (or stdin when no VALUE is given) to KEY; prints the new context on stderr
  del      delete KEY; prints the context of the delete on stderr
  ls       list the keys (of a prefix), one per line; --limit caps how many
  data commands: --url may be repeated or comma-separated (default ${urlDefault}; the client fails
  over to the next URL), --json prints one JSON object on stdout instead; exit 0 done,
  1 not found, 2 usage error, 3 an error answer or no node reachable
  a client token (nodes with --auth-file): env KVORUM_TOKEN (preferred: argv is visible in ps)
  or --token T, for the data commands, status and admin

${startUsage()}`;
}
