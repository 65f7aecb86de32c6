// `kvorum admin ...`: membership changes over the admin HTTP routes of any member (docs/api.md
// section 3, Membership). Stage with join/leave/replace/remove, look with plan, apply with commit.
import { parseArgs } from 'node:util';
import { statusRequestTimeoutMs } from '../core/limits.js';
import { ConfigError } from '../node/config.js';
import { tokenFrom } from './data.js';
import { adminBackup } from './backup.js';

const commitWaitMsDefault = 3_600_000;
const pollIntervalMs = 1000;

type Json = Record<string, unknown>;

/** An admin token for nodes with --auth-file (--token, or env KVORUM_TOKEN), sent with every call. */
let authorization: Record<string, string> = {};

async function call(url: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: Json): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: body === undefined ? { ...authorization } : { ...authorization, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(statusRequestTimeoutMs * 4),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** Prints a refusal and returns 1, or the answer and 0. */
function report(answer: { status: number; json: Json }, describe: (json: Json) => string): number {
  if (answer.status >= 400) {
    console.error(`kvorum admin: ${String(answer.json['error'])}: ${String(answer.json['message'])}`);
    return 1;
  }
  console.log(describe(answer.json));
  return 0;
}

const staged = (json: Json) => `staged: ${(json['staged'] as Json[]).map((c) => `${String(c['kind'])} ${String(c['node'])}${c['by'] ? ` by ${String(c['by'])}` : ''}`).join(', ') || 'nothing'} (ring version ${String(json['ringVersion'])}); run "kvorum admin plan", then "kvorum admin commit"`;

function printPlan(json: Json): string {
  const members = json['members'] as { id: string; status: string; before: number; after: number }[];
  const lines = [
    `changes: ${(json['changes'] as Json[]).map((c) => `${String(c['kind'])} ${String(c['node'])}${c['by'] ? ` by ${String(c['by'])}` : ''}`).join(', ') || 'none staged'}`,
    'member        status    partitions now -> after',
    ...members.map((m) => `${m.id.padEnd(13)} ${m.status.padEnd(9)} ${String(m.before).padStart(14)} -> ${m.after}`),
    `partitions moving: ${String(json['partitionsMoving'])} (${(json['transfers'] as unknown[]).length} transfers, ${String(json['keysMoving'])} keys)`,
    `claimed owners moved: ${String(json['ownersMoved'])} (the fewest possible: ${String(json['ownersMovedMin'])})`,
  ];
  return lines.join('\n');
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Polls the transfers until nothing moves (or the deadline), drawing one progress line. */
async function waitForTransfers(url: string, total: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await call(url, 'GET', '/admin/transfers').catch(() => ({ json: undefined }));
    if (json !== undefined) {
      const moving = Number(json['partitionsMoving']);
      const transfers = json['transfers'] as { state: string; bytesPerSecond: number }[];
      const rate = transfers.reduce((s, t) => s + (t.state === 'streaming' ? t.bytesPerSecond : 0), 0);
      const left = `${String(json['keysLeft'])} keys left`;
      process.stdout.write(`\r${bar(total - moving, total)} ${total - moving}/${total} partitions  ${left}  ${(rate / 1e6).toFixed(1)} MB/s  ETA ${duration(json['etaSeconds'] as number | null)}   `);
      if (moving === 0) {
        process.stdout.write('\ndone: every partition is on its new replicas\n');
        return 0;
      }
    }
    if (Date.now() > deadline) {
      process.stdout.write('\nstill moving when --wait-ms ran out; "kvorum admin transfers" shows where each stands\n');
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

/** Seconds as an operator reads them: 45s, 3m05s, 2h10m; '?' when unknown. */
function duration(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

type TransferLine = {
  partition: number; to: string; from: string | null; leaving: string[]; state: string; keys: number; keysTotal: number | null;
  bytes: number; keysPerSecond: number; bytesPerSecond: number; etaSeconds: number | null; error: string | null;
};

function printTransfers(json: Json): string {
  const transfers = json['transfers'] as TransferLine[];
  const lines = [
    `ring version ${String(json['ringVersion'])}: ${String(json['partitionsMoving'])} partitions moving, ${String(json['keysLeft'])} keys left, ETA ${duration(json['etaSeconds'] as number | null)}`,
  ];
  if (transfers.length > 0) lines.push('partition  to            from          state            keys/total         bytes     keys/s     bytes/s      ETA  error');
  for (const t of transfers) {
    const keys = `${t.keys}/${t.keysTotal ?? '?'}`;
    const rates = `${String(t.keysPerSecond).padStart(9)} ${String(t.bytesPerSecond).padStart(11)}`;
    lines.push(`${String(t.partition).padStart(9)}  ${t.to.padEnd(13)} ${(t.from ?? t.leaving.join(',') ?? '-').padEnd(13)} ${t.state.padEnd(9)} ${keys.padStart(17)} ${String(t.bytes).padStart(13)} ${rates} ${duration(t.etaSeconds).padStart(8)}  ${t.error ?? ''}`);
  }
  return lines.join('\n');
}

export async function admin(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:7001' },
      force: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      'wait-ms': { type: 'string', default: String(commitWaitMsDefault) },
      concurrency: { type: 'string' },
      'bytes-per-second': { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const token = tokenFrom(values.token);
  authorization = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const [sub, ...rest] = positionals;
  const url = values.url;
  const need = (count: number, usage: string) => {
    if (rest.length !== count) throw new ConfigError(`usage: kvorum admin ${usage}`);
  };
  switch (sub) {
    case 'join':
    case 'leave':
      need(1, `${sub} NODE_ID`);
      return report(await call(url, 'POST', `/admin/${sub}`, { node: rest[0] }), staged);
    case 'replace':
      need(2, 'replace OLD_ID NEW_ID');
      return report(await call(url, 'POST', '/admin/replace', { node: rest[0], by: rest[1] }), staged);
    case 'remove':
      need(1, 'remove NODE_ID [--force]');
      return report(await call(url, 'POST', '/admin/remove', { node: rest[0], force: values.force }), staged);
    case 'plan':
      return report(await call(url, 'GET', '/admin/plan'), printPlan);
    case 'clear':
      return report(await call(url, 'POST', '/admin/clear', {}), () => 'staged changes dropped');
    case 'commit':
      return commit(url, values.wait, Number(values['wait-ms']));
    case 'transfers':
      return report(await call(url, 'GET', '/admin/transfers'), printTransfers);
    case 'cancel':
      return report(await call(url, 'POST', '/admin/transfers/cancel', rest[0] === undefined ? {} : { partition: Number(rest[0]) }), (j) => `cancelled: ${String(j['partitionsMoving'])} partitions still moving`);
    case 'limits': {
      const body: Json = {};
      if (values.concurrency !== undefined) body['concurrency'] = Number(values.concurrency);
      if (values['bytes-per-second'] !== undefined) body['bytesPerSecond'] = Number(values['bytes-per-second']);
      return report(await call(url, 'PUT', '/admin/transfer-limits', body), (j) => `${String(j['node'])}: ${JSON.stringify(j['limits'])}`);
    }
    case 'backup':
      return adminBackup(url, values.out, authorization);
    default:
      throw new ConfigError('usage: kvorum admin join|leave|replace|remove|plan|commit [--wait]|clear|transfers|cancel [PARTITION]|limits|backup --out FILE [--url URL] [--token T]');
  }
}

async function commit(url: string, wait: boolean, waitMs: number): Promise<number> {
  const answer = await call(url, 'POST', '/admin/commit', {});
  const code = report(answer, (j) => `committed: ring version ${String(j['ringVersion'])}, ${String(j['partitionsMoving'])} partitions moving`);
  if (code !== 0 || !wait) return code;
  return waitForTransfers(url, Number(answer.json['partitionsMoving']), waitMs);
}
