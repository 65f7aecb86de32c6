// Node configuration: config/default.json < --config FILE < command-line flags (API.md section 1).
import { readFileSync } from 'node:fs';
import { parseQuorum } from '../core/quorum.js';
import * as limits from '../core/limits.js';
import type { ConvergenceSettings } from '../core/node-core.js';
import { isValidPartitionCount } from '../core/ring.js';
import type { QuorumSpec } from '../core/rpc.js';
import { asNodeId, type NodeId } from '../core/types.js';

export interface NodeConfig {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly n: number;
  readonly r: QuorumSpec;
  readonly w: QuorumSpec;
  readonly partitions: number;
  readonly secret: string | undefined;
  readonly maxValueBytes: number;
  readonly sync: 'normal' | 'full';
  readonly logLevel: string;
  readonly convergence: ConvergenceSettings;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const startFlags = {
  id: { type: 'string' },
  listen: { type: 'string' },
  'data-dir': { type: 'string' },
  peers: { type: 'string' },
  n: { type: 'string' },
  r: { type: 'string' },
  w: { type: 'string' },
  partitions: { type: 'string' },
  secret: { type: 'string' },
  config: { type: 'string' },
  'max-value-bytes': { type: 'string' },
  sync: { type: 'string' },
  'log-level': { type: 'string' },
  'tombstone-grace-ms': { type: 'string' },
  'anti-entropy-interval-ms': { type: 'string' },
  'handoff-interval-ms': { type: 'string' },
  'hints-per-peer-max': { type: 'string' },
  'probe-interval-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const idPattern = /^[a-z0-9_-]{1,64}$/;
const defaultsUrl = new URL('../../config/default.json', import.meta.url);

function readJson(path: string | URL): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot read config ${String(path)}: ${(err as Error).message}`);
  }
}

function integer(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseListen(value: unknown): { host: string; port: number } {
  const m = typeof value === 'string' ? /^(.+):([0-9]{1,5})$/.exec(value) : null;
  if (!m) throw new ConfigError(`listen must be HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1]!, port: integer(m[2], 'listen port', 1, 65535) };
}

function parsePeers(value: unknown): Map<NodeId, string> {
  const entries: [string, string][] =
    typeof value === 'string'
      ? value.split(',').filter(Boolean).map((pair) => {
          const at = pair.indexOf('=');
          if (at < 1) throw new ConfigError(`peers must be id=URL,id=URL,...; bad entry ${JSON.stringify(pair)}`);
          return [pair.slice(0, at), pair.slice(at + 1)];
        })
      : typeof value === 'object' && value !== null
        ? Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)])
        : [];
  const peers = new Map<NodeId, string>();
  for (const [id, url] of entries) {
    if (!idPattern.test(id)) throw new ConfigError(`peer id ${JSON.stringify(id)} must match [a-z0-9_-]{1,64}`);
    try {
      new URL(url);
    } catch {
      throw new ConfigError(`peer ${id} has an invalid URL ${JSON.stringify(url)}`);
    }
    if (peers.has(asNodeId(id))) throw new ConfigError(`peer ${id} is listed twice`);
    peers.set(asNodeId(id), url.replace(/\/+$/, ''));
  }
  return peers;
}

/** Merges defaults, the optional config file and flags into a validated NodeConfig. */
export function loadNodeConfig(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const file = typeof flags['config'] === 'string' ? readJson(flags['config']) : {};
  const fromFlags: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {
    'data-dir': 'dataDir',
    'max-value-bytes': 'maxValueBytes',
    'log-level': 'logLevel',
    'tombstone-grace-ms': 'tombstoneGraceMs',
    'anti-entropy-interval-ms': 'antiEntropyIntervalMs',
    'handoff-interval-ms': 'handoffIntervalMs',
    'hints-per-peer-max': 'hintsPerPeerMax',
    'probe-interval-ms': 'probeIntervalMs',
  };
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && flag !== 'config' && flag !== 'help') fromFlags[flagNames[flag] ?? flag] = value;
  }
  const merged: Record<string, unknown> = { ...readJson(defaultsUrl), ...file, ...fromFlags };
  if (merged['secret'] === undefined && env['KVORUM_SECRET']) merged['secret'] = env['KVORUM_SECRET'];

  const id = merged['id'];
  if (typeof id !== 'string' || !idPattern.test(id)) throw new ConfigError('--id is required and must match [a-z0-9_-]{1,64}');
  const { host, port } = parseListen(merged['listen']);
  const n = integer(merged['n'], 'n', 1, limits.replicationFactorMax);
  const partitions = integer(merged['partitions'], 'partitions', limits.partitionsMin, limits.partitionsMax);
  if (!isValidPartitionCount(partitions)) throw new ConfigError(`partitions must be a power of two, got ${partitions}`);
  const quorum = (name: 'r' | 'w') => {
    try {
      return parseQuorum(String(merged[name]), n, name);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  };
  const peers = merged['peers'] === undefined ? new Map([[asNodeId(id), `http://${host}:${port}`]]) : parsePeers(merged['peers']);
  if (!peers.has(asNodeId(id))) throw new ConfigError(`peers must include this node (${id})`);
  const sync = merged['sync'];
  if (sync !== 'normal' && sync !== 'full') throw new ConfigError(`sync must be "normal" or "full", got ${JSON.stringify(sync)}`);
  const secret = merged['secret'];
  if (secret !== undefined && (typeof secret !== 'string' || secret.length === 0)) throw new ConfigError('secret must be a non-empty string');
  return {
    id: asNodeId(id),
    host,
    port,
    dataDir: typeof merged['dataDir'] === 'string' ? merged['dataDir'] : `./data/${id}`,
    peers,
    n,
    r: quorum('r'),
    w: quorum('w'),
    partitions,
    secret: secret as string | undefined,
    maxValueBytes: integer(merged['maxValueBytes'], 'maxValueBytes', 1, limits.valueBytesMaxLimit),
    sync,
    logLevel: String(merged['logLevel'] ?? 'info'),
    convergence: {
      tombstoneGraceMs: integer(merged['tombstoneGraceMs'] ?? limits.tombstoneGraceMsDefault, 'tombstoneGraceMs', 0, 365 * 86_400_000),
      antiEntropyIntervalMs: integer(merged['antiEntropyIntervalMs'] ?? limits.antiEntropyIntervalMsDefault, 'antiEntropyIntervalMs', 10, 86_400_000),
      handoffIntervalMs: integer(merged['handoffIntervalMs'] ?? limits.handoffIntervalMsDefault, 'handoffIntervalMs', 10, 3_600_000),
      hintsPerPeerMax: integer(merged['hintsPerPeerMax'] ?? limits.hintsPerPeerMaxDefault, 'hintsPerPeerMax', 0, 100_000_000),
      probeIntervalMs: integer(merged['probeIntervalMs'] ?? limits.peerProbeIntervalMsDefault, 'probeIntervalMs', 50, 60_000),
    },
  };
}
