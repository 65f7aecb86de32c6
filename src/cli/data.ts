// The data commands `kvorum get|put|del|ls` (docs/api.md section 1, "Data commands"), through the
// TypeScript client: --url may be repeated or comma-separated and the client fails over between
// the URLs. Exit codes: 0 done, 1 not found (get), 2 usage error, 3 an error answer or no node
// reachable. The value goes to stdout as raw bytes, the context to stderr (`context: TOKEN`), or
// everything as one JSON object on stdout with --json.
import { parseArgs } from 'node:util';
import { KvorumClient } from '../client/client.js';
import { KvorumError } from '../client/errors.js';
import type { GetResult, Sibling } from '../client/types.js';
import { ConfigError } from '../node/config.js';

export const dataCommands = ['get', 'put', 'del', 'ls'] as const;
export type DataCommand = (typeof dataCommands)[number];

export const urlDefault = 'http://127.0.0.1:7001';
const exitOk = 0;
const exitNotFound = 1;
const exitServerError = 3;
/** The server's largest page; `ls --limit` beyond it takes several pages. */
const listPageMax = 1000;

const options = {
  url: { type: 'string', multiple: true },
  'content-type': { type: 'string' },
  ttl: { type: 'string' },
  context: { type: 'string' },
  prefix: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
  token: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>['values'];

const usageOf: Record<DataCommand, string> = {
  get: 'kvorum get KEY [--url URL]... [--token T] [--json]',
  put: 'kvorum put KEY [VALUE] [--url URL]... [--token T] [--content-type T] [--ttl SECONDS] [--context C] [--json]',
  del: 'kvorum del KEY [--url URL]... [--token T] [--context C] [--json]',
  ls: 'kvorum ls [--prefix P] [--limit L] [--url URL]... [--token T] [--json]',
};

const write = (stream: NodeJS.WriteStream, data: string | Buffer) => new Promise<void>((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));

function positiveInteger(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < 1) throw new ConfigError(`--${flag} must be a positive integer; got "${raw}"`);
  return Number(raw);
}

/** The client token: --token, else env KVORUM_TOKEN (better: argv is visible to anyone running ps), else none. */
export function tokenFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = flag ?? env['KVORUM_TOKEN'];
  return token === undefined || token === '' ? undefined : token;
}

function clientFor(values: Values): KvorumClient {
  const nodes = (values.url ?? [urlDefault]).flatMap((u) => u.split(',')).map((u) => u.trim()).filter((u) => u !== '');
  try {
    return new KvorumClient({ nodes, token: tokenFrom(values.token) });
  } catch (err) {
    throw new ConfigError(`--url: ${(err as Error).message}`);
  }
}

/** Printable text: valid UTF-8 without control characters other than tab. */
export function printable(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

function siblingLines(siblings: readonly Sibling[]): string {
  return siblings
    .map((s, i) => {
      const text = printable(s.value);
      const expiry = s.expiresAt === undefined ? '' : `, expires ${new Date(s.expiresAt).toISOString()}`;
      return text === undefined ? `[${i + 1}] ${s.contentType} (base64${expiry}): ${s.value.toString('base64')}\n` : `[${i + 1}] ${s.contentType}${expiry}: ${text}\n`;
    })
    .join('');
}

function jsonOf(result: NonNullable<GetResult>): unknown {
  if (result.kind === 'siblings') return { ...result, siblings: result.siblings.map((s) => ({ ...s, value: s.value.toString('base64') })) };
  if (result.kind === 'value') return { ...result, value: result.value.toString('base64') };
  return result;
}

async function get(client: KvorumClient, key: string, json: boolean): Promise<number> {
  const result = await client.get(key);
  if (result === null) {
    if (json) await write(process.stdout, `${JSON.stringify({ kind: 'absent' })}\n`);
    await write(process.stderr, `kvorum get: ${key}: not found\n`);
    return exitNotFound;
  }
  if (json) {
    await write(process.stdout, `${JSON.stringify(jsonOf(result))}\n`);
    return exitOk;
  }
  if (result.kind === 'value') {
    await write(process.stdout, result.value);
    const expiry = result.expiresAt === undefined ? '' : `expires-at: ${new Date(result.expiresAt).toISOString()}\n`;
    await write(process.stderr, `content-type: ${result.contentType}\n${expiry}context: ${result.context}\n`);
  } else if (result.kind === 'siblings') {
    await write(process.stdout, `${result.siblings.length} siblings; resolve them with: kvorum put KEY VALUE --context CONTEXT\n${siblingLines(result.siblings)}`);
    await write(process.stderr, `context: ${result.context}\n`);
  }
  return exitOk;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function put(client: KvorumClient, key: string, value: string | undefined, values: Values): Promise<number> {
  const body = value ?? (await readStdin());
  const ttl = positiveInteger(values.ttl, 'ttl');
  const { context } = await client.put(key, body, { contentType: values['content-type'], context: values.context, ttl });
  await written(context, values.json);
  return exitOk;
}

async function written(context: string, json: boolean | undefined): Promise<void> {
  if (json) await write(process.stdout, `${JSON.stringify({ context })}\n`);
  else await write(process.stderr, `context: ${context}\n`);
}

async function ls(client: KvorumClient, values: Values): Promise<number> {
  const total = positiveInteger(values.limit, 'limit') ?? Infinity;
  let printed = 0;
  for await (const page of client.list({ prefix: values.prefix, limit: Math.min(total, listPageMax) })) {
    const keys = page.keys.slice(0, total - printed);
    if (keys.length > 0) await write(process.stdout, keys.map((k) => `${values.json ? JSON.stringify(k) : k}\n`).join(''));
    printed += keys.length;
    if (printed >= total) break;
  }
  return exitOk;
}

async function run(command: DataCommand, client: KvorumClient, positionals: string[], values: Values): Promise<number> {
  const need = (min: number, max: number) => {
    if (positionals.length < min || positionals.length > max) throw new ConfigError(`usage: ${usageOf[command]}`);
  };
  switch (command) {
    case 'get':
      need(1, 1);
      return get(client, positionals[0]!, values.json === true);
    case 'put':
      need(1, 2);
      return put(client, positionals[0]!, positionals[1], values);
    case 'del': {
      need(1, 1);
      const { context } = await client.delete(positionals[0]!, { context: values.context });
      await written(context, values.json);
      return exitOk;
    }
    case 'ls':
      need(0, 0);
      return ls(client, values);
  }
}

/** Runs one data command; usage errors are thrown as ConfigError (exit 2 in kvorum.ts). */
export async function dataCommand(command: DataCommand, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  const client = clientFor(values);
  try {
    return await run(command, client, positionals, values);
  } catch (err) {
    if (!(err instanceof KvorumError)) throw err;
    await write(process.stderr, `kvorum ${command}: ${err.code}: ${err.message}\n`);
    return exitServerError;
  }
}

export const dataUsage = (): string => Object.values(usageOf).map((u) => `  ${u}`).join('\n');
