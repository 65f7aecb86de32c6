// Node configuration: knob defaults < config/default.json < --config FILE < command-line flags
// (docs/api.md section 1). What each knob is, its bounds and default, is in knobs.ts.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseQuorum } from '../core/quorum.js';
import type { ServerLimits } from '../api/app.js';
import type { ConvergenceSettings } from '../core/node-core.js';
import { isValidPartitionCount } from '../core/ring.js';
import type { QuorumSpec } from '../core/rpc.js';
import { asNodeId, type NodeId } from '../core/types.js';
import { nodeIdPattern, nodeIdPatternText } from '../core/schemas.js';
import { readTlsMaterial, type TlsSettings } from '../transport/tls-identity.js';
import { resolveSecret, SecretError } from './secret.js';
import { knobDefaults, knobs, portMax, portMin, type Knob, type KnobKey } from './knobs.js';

export interface NodeConfig {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
  /** The URL this node gives out (ring, join, /cluster): --advertise, else its --peers entry, else from --listen. */
  readonly advertiseUrl: string;
  readonly dataDir: string;
  /** A new cluster's members (with --peers), or just this node (with --join). Ignored once the data directory holds a ring. */
  readonly peers: ReadonlyMap<NodeId, string>;
  /** --join: a member's URL to join an existing cluster through. */
  readonly join: string | undefined;
  readonly n: number;
  readonly r: QuorumSpec;
  readonly w: QuorumSpec;
  readonly partitions: number;
  readonly secret: string | undefined;
  readonly valueBytesMax: number;
  readonly sync: 'normal' | 'full';
  readonly logLevel: string;
  readonly convergence: ConvergenceSettings;
  /** --tls-cert/--tls-key/--tls-ca/--tls-peer-auth; undefined when the node serves plain HTTP. */
  readonly tls: TlsSettings | undefined;
  /** Overload protection and HTTP timeouts (issue 15). */
  readonly server: ServerLimits;
  /** --auth-file: the client tokens; undefined: the client and admin API are open. */
  readonly authFile: string | undefined;
  readonly metricsAccess: 'open' | 'admin';
  /** --access-log: one info log line per answered request. */
  readonly accessLog: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const defaultsUrl = new URL('../../config/default.json', import.meta.url);
const table = knobs as readonly Knob[];
const knobByKey = new Map(table.map((k) => [k.key, k]));

function readJson(path: string | URL): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot read config ${String(path)}: ${(err as Error).message}`);
  }
}

/**
 * One source (flags, a file) as knob keys. Old names still count, with a warning; both names in one
 * source is an error, since neither choice would be what the user meant. Unknown file keys are ignored.
 */
function layer(source: Readonly<Record<string, unknown>>, by: 'flag' | 'key', warn: (message: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dash = by === 'flag' ? '--' : '';
  for (const knob of table) {
    const value = source[knob[by]];
    const old = knob.old ? source[knob.old[by]] : undefined;
    if (old !== undefined && knob.old) {
      if (value !== undefined) throw new ConfigError(`set ${dash}${knob[by]} or its old name ${dash}${knob.old[by]}, not both`);
      warn(`${dash}${knob.old[by]} is deprecated, use ${dash}${knob[by]}`);
    }
    if ((value ?? old) !== undefined) out[knob.key] = value ?? old;
  }
  return out;
}

function integer(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function decimal(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a number in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Checks a knob of a simple kind (integer, number, enum, text) against its row of the table. */
function simple(key: KnobKey, value: unknown): unknown {
  const knob = knobByKey.get(key)!;
  switch (knob.kind) {
    case 'integer': {
      const n = integer(value, knob.key, knob.min, knob.max);
      if (knob.powerOfTwo && !isValidPartitionCount(n)) throw new ConfigError(`${knob.key} must be a power of two, got ${n}`);
      return n;
    }
    case 'number':
      return decimal(value, knob.key, knob.min, knob.max);
    case 'enum': {
      if (typeof value === 'string' && knob.values.includes(value)) return value;
      const forms = knob.values.map((v) => JSON.stringify(v));
      throw new ConfigError(`${knob.key} must be ${forms.slice(0, -1).join(', ')} or ${forms.at(-1)!}, got ${JSON.stringify(value)}`);
    }
    case 'text':
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`${knob.key} must be a non-empty string`);
      if (knob.pattern && !knob.pattern.test(value)) throw new ConfigError(`${knob.key} must match ${knob.patternText!}, got ${JSON.stringify(value)}`);
      return value;
    case 'boolean':
      if (value === undefined || typeof value === 'boolean') return value ?? false;
      throw new ConfigError(`${knob.key} must be true or false, got ${JSON.stringify(value)}`);
    default:
      throw new Error(`knob ${knob.key} (${knob.kind}) has its own parser`);
  }
}

function parseListen(value: unknown): { host: string; port: number } {
  const m = typeof value === 'string' ? /^(.+):([0-9]{1,5})$/.exec(value) : null;
  if (!m) throw new ConfigError(`listen must be HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1]!, port: integer(m[2], 'listen port', portMin, portMax) };
}

function peerEntries(value: unknown): [string, string][] {
  if (typeof value === 'string') {
    return value.split(',').filter(Boolean).map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new ConfigError(`peers must be id=URL,id=URL,...; bad entry ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    });
  }
  return typeof value === 'object' && value !== null ? Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]) : [];
}

function parsePeers(value: unknown): Map<NodeId, string> {
  const peers = new Map<NodeId, string>();
  for (const [id, url] of peerEntries(value)) {
    if (!nodeIdPattern.test(id)) throw new ConfigError(`peer id ${JSON.stringify(id)} must match ${nodeIdPatternText}`);
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

/** Hosts that bind every interface: a URL made of them reaches nothing. */
const wildcardHosts = new Set(['0.0.0.0', '::', '[::]']);

/** --advertise checked: an http(s) origin (no path, query or credentials), trailing slash dropped. */
function parseAdvertise(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--advertise must be an http(s) URL such as http://10.0.0.1:7001, got ${JSON.stringify(value)}`);
  }
  const plain = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !plain || wildcardHosts.has(url.hostname)) {
    throw new ConfigError(`--advertise must be an http(s) URL with a reachable host and no path, such as http://10.0.0.1:7001, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * The URL this node gives out. --advertise wins and must agree with the node's own --peers entry;
 * without it, that entry; without --peers, the --listen address, or this machine's host name when
 * --listen binds every address (what a container's single node needs; a warning says so).
 */
function advertiseUrlOf(
  merged: Readonly<Record<string, unknown>>,
  self: { id: NodeId; host: string; port: number; tls: boolean },
  peers: ReadonlyMap<NodeId, string> | undefined,
  warn: (message: string) => void,
): string {
  const given = simple('advertise', merged['advertise']) as string | undefined;
  const own = peers?.get(self.id);
  if (given !== undefined) {
    const url = parseAdvertise(given);
    if (own !== undefined && own !== url) throw new ConfigError(`--advertise ${url} differs from this node's --peers entry ${own}: give the same URL`);
    return url;
  }
  if (own !== undefined) return own;
  const scheme = self.tls ? 'https' : 'http';
  if (!wildcardHosts.has(self.host)) return `${scheme}://${self.host}:${self.port}`;
  const url = `${scheme}://${hostname()}:${self.port}`;
  warn(`--listen ${self.host}:${self.port} binds every address and no --advertise was given: advertising ${url} (this machine's host name); give --advertise URL if peers reach this node by another name`);
  return url;
}

function parseJoin(join: unknown, peers: unknown): string | undefined {
  if (join === undefined) return undefined;
  if (peers !== undefined) throw new ConfigError('--join and --peers exclude each other: --peers starts a new cluster, --join enters an existing one');
  try {
    const url = new URL(String(join));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`--join must be a member's http URL, got ${JSON.stringify(join)}`);
  }
  return String(join).replace(/\/+$/, '');
}

/** The TLS knobs, their files read and checked once now: a node never starts with material it cannot serve. */
function parseTls(merged: Readonly<Record<string, unknown>>): TlsSettings | undefined {
  const certFile = simple('tlsCert', merged['tlsCert']) as string | undefined;
  const keyFile = simple('tlsKey', merged['tlsKey']) as string | undefined;
  const caFile = simple('tlsCa', merged['tlsCa']) as string | undefined;
  const peerAuth = simple('tlsPeerAuth', merged['tlsPeerAuth']) as boolean;
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  if (certFile === undefined || keyFile === undefined) {
    if (caFile !== undefined || peerAuth) throw new ConfigError('--tls-ca and --tls-peer-auth need --tls-cert and --tls-key');
    return undefined;
  }
  // Without a CA of our own, any certificate a public CA signed would pass as a peer.
  if (peerAuth && caFile === undefined) throw new ConfigError('--tls-peer-auth needs --tls-ca: the CA that signs the cluster\'s node certificates');
  const settings = { certFile, keyFile, caFile, peerAuth };
  try {
    readTlsMaterial(settings);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return settings;
}

/** With TLS every member is reached over https: a plain http URL would carry the secret in clear. */
function checkSchemes(tls: TlsSettings | undefined, peers: ReadonlyMap<NodeId, string>, join: string | undefined): void {
  if (tls === undefined) return;
  for (const [id, url] of peers) if (!url.startsWith('https://')) throw new ConfigError(`with --tls-cert every peer URL must be https; ${id} is ${JSON.stringify(url)}`);
  if (join !== undefined && !join.startsWith('https://')) throw new ConfigError(`with --tls-cert --join must be an https URL, got ${JSON.stringify(join)}`);
}

/** Every source merged by knob key, lowest first; an env variable fills a knob nothing else set. */
function mergeSources(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv, warn: (m: string) => void): Record<string, unknown> {
  const file = typeof flags['config'] === 'string' ? layer(readJson(flags['config']), 'key', warn) : {};
  const merged = { ...knobDefaults(), ...layer(readJson(defaultsUrl), 'key', warn), ...file, ...layer(flags, 'flag', warn) };
  // A secret or secret file set by a flag or a file wins over both environment variables.
  const secretSet = merged['secret'] !== undefined || merged['secretFile'] !== undefined;
  for (const knob of table) {
    if (secretSet && (knob.key === 'secret' || knob.key === 'secretFile')) continue;
    if (knob.env && merged[knob.key] === undefined && env[knob.env]) merged[knob.key] = env[knob.env];
  }
  return merged;
}

function secretOf(merged: Record<string, unknown>, flags: Readonly<Record<string, unknown>>, warn: (m: string) => void) {
  const secretFile = simple('secretFile', merged['secretFile']) as string | undefined;
  const secret = simple('secret', merged['secret']) as string | undefined;
  try {
    return resolveSecret({ secret, secretFile, onCommandLine: flags['secret'] !== undefined }, warn);
  } catch (err) {
    if (err instanceof SecretError) throw new ConfigError(err.message);
    throw err;
  }
}

/**
 * Merges the table's defaults, config/default.json, the optional config file and flags into a
 * validated NodeConfig. `warn` receives deprecation notices (the logger does not exist yet).
 */
export function loadNodeConfig(
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => {},
): NodeConfig {
  const merged = mergeSources(flags, env, warn);
  const id = merged['id'];
  if (typeof id !== 'string' || !nodeIdPattern.test(id)) throw new ConfigError(`--id is required and must match ${nodeIdPatternText}`);
  const { host, port } = parseListen(merged['listen']);
  const n = simple('n', merged['n']) as number;
  const quorum = (name: 'r' | 'w') => {
    try {
      return parseQuorum(String(merged[name]), n, name);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  };
  const tls = parseTls(merged);
  const listed = merged['peers'] === undefined ? undefined : parsePeers(merged['peers']);
  if (listed !== undefined && !listed.has(asNodeId(id))) throw new ConfigError(`peers must include this node (${id})`);
  const advertiseUrl = advertiseUrlOf(merged, { id: asNodeId(id), host, port, tls: tls !== undefined }, listed, warn);
  const peers = listed ?? new Map([[asNodeId(id), advertiseUrl]]);
  const join = parseJoin(flags['join'], merged['peers']);
  checkSchemes(tls, peers, join);
  const int = (key: KnobKey) => simple(key, merged[key]) as number;
  return {
    id: asNodeId(id),
    host,
    port,
    advertiseUrl,
    dataDir: (simple('dataDir', merged['dataDir']) as string | undefined) ?? `./data/${id}`,
    peers,
    join,
    n,
    r: quorum('r'),
    w: quorum('w'),
    partitions: int('partitions'),
    secret: secretOf(merged, flags, warn),
    valueBytesMax: int('valueBytesMax'),
    sync: simple('sync', merged['sync']) as 'normal' | 'full',
    logLevel: simple('logLevel', merged['logLevel']) as string,
    convergence: {
      tombstoneGraceMs: int('tombstoneGraceMs'),
      antiEntropyIntervalMs: int('antiEntropyIntervalMs'),
      handoffIntervalMs: int('handoffIntervalMs'),
      hintsPerPeerMax: int('hintsPerPeerMax'),
      probeIntervalMs: int('probeIntervalMs'),
      gossipIntervalMs: int('gossipIntervalMs'),
      transferLimits: { concurrency: int('transferConcurrency'), bytesPerSecond: int('transferBytesPerSecond') },
      phiThreshold: simple('phiThreshold', merged['phiThreshold']) as number,
    },
    tls,
    server: {
      clientRequestsInFlightMax: int('clientRequestsInFlightMax'),
      eventLoopDelayMaxMs: int('eventLoopDelayMaxMs'),
      headersTimeoutMs: int('httpHeadersTimeoutMs'),
      requestTimeoutMs: int('httpRequestTimeoutMs'),
      keepAliveTimeoutMs: int('httpKeepAliveTimeoutMs'),
    },
    authFile: simple('authFile', merged['authFile']) as string | undefined,
    metricsAccess: simple('metricsAccess', merged['metricsAccess']) as 'open' | 'admin',
    accessLog: simple('accessLog', merged['accessLog']) as boolean,
  };
}
