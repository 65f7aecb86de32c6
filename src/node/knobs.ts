// The one table of `kvorum start` knobs (issue 11, point 7). The CLI options, validation, defaults
// and usage text are derived from it; config/default.json and the flag tables of docs/api.md and
// the README are checked against it (test/unit/knobs.test.ts). Names put the unit last.
import * as limits from '../core/limits.js';
import { nodeIdPattern, nodeIdPatternText } from '../core/schemas.js';

export const portMin = 1;
export const portMax = 65_535;
/** `kvorum cluster --nodes` at most: one machine's worth of child processes. */
export const clusterNodesMax = 64;
const dayMs = 86_400_000;

export type KnobValue = string | number | boolean;

interface KnobBase {
  /** Key in a config file (camelCase, unit last). */
  readonly key: string;
  /** Command-line flag, without the leading `--`. */
  readonly flag: string;
  /** Placeholder for the value in the usage text and docs. */
  readonly arg: string;
  readonly help: string;
  /** Written to config/default.json; absent when the value is required or derived from others. */
  readonly default?: KnobValue;
  /** How an absent default reads in the usage and docs ("required", "none", ...). */
  readonly defaultText?: string;
  /** Environment variable used when neither a flag nor a file sets the knob. */
  readonly env?: string;
  /** An older name still accepted (users have config files and scripts), with a warning. */
  readonly old?: { readonly flag: string; readonly key: string };
}

export type Knob = KnobBase &
  (
    | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly unit: string; readonly powerOfTwo?: boolean }
    // A decimal number, fractions allowed (a threshold, not a count).
    | { readonly kind: 'number'; readonly min: number; readonly max: number }
    | { readonly kind: 'enum'; readonly values: readonly string[] }
    | { readonly kind: 'text'; readonly pattern?: RegExp; readonly patternText?: string }
    // A switch: a flag without a value on the command line, true or false in a config file.
    | { readonly kind: 'boolean' }
    // Parsed by config.ts: they combine several parts or depend on other knobs.
    | { readonly kind: 'listen' | 'peers' | 'quorum' }
  );


export const knobs = [
  { key: 'id', flag: 'id', arg: 'ID', kind: 'text', pattern: nodeIdPattern, patternText: nodeIdPatternText, defaultText: 'required', help: 'node id' },
  { key: 'listen', flag: 'listen', arg: 'HOST:PORT', kind: 'listen', default: '127.0.0.1:7001', help: 'where this node serves HTTP (client, admin, RPC)' },
  {
    key: 'advertise', flag: 'advertise', arg: 'URL', kind: 'text', env: 'KVORUM_ADVERTISE', defaultText: 'the --peers URL, else from --listen',
    help: 'the URL peers and clients are told to reach this node at (needed when --listen binds 0.0.0.0)',
  },
  { key: 'dataDir', flag: 'data-dir', arg: 'DIR', kind: 'text', defaultText: './data/<id>', help: 'where this node keeps its SQLite files' },
  { key: 'peers', flag: 'peers', arg: 'id=URL,...', kind: 'peers', defaultText: 'this node alone', help: 'all cluster members, this node included' },
  { key: 'n', flag: 'n', arg: 'N', kind: 'integer', min: 1, max: limits.replicationFactorMax, unit: 'replicas', default: limits.replicationFactorDefault, help: 'replication factor' },
  { key: 'r', flag: 'r', arg: 'R', kind: 'quorum', default: 'quorum', help: 'default read quorum: 1..N, one, quorum or all' },
  { key: 'w', flag: 'w', arg: 'W', kind: 'quorum', default: 'quorum', help: 'default write quorum, same forms' },
  {
    key: 'partitions', flag: 'partitions', arg: 'Q', kind: 'integer', min: limits.partitionsMin, max: limits.partitionsMax, unit: 'partitions',
    powerOfTwo: true, default: limits.partitionsDefault, help: 'ring partitions: a power of two, fixed for the life of the cluster',
  },
  {
    key: 'secret', flag: 'secret', arg: 'S', kind: 'text', env: 'KVORUM_SECRET', defaultText: 'none',
    help: 'shared secret for internal RPC (on the command line it is visible in ps: prefer --secret-file)',
  },
  {
    key: 'secretFile', flag: 'secret-file', arg: 'FILE', kind: 'text', env: 'KVORUM_SECRET_FILE', defaultText: 'none',
    help: 'file holding the shared secret for internal RPC',
  },
  {
    key: 'valueBytesMax', flag: 'value-bytes-max', arg: 'B', kind: 'integer', min: 1, max: limits.valueBytesMaxLimit, unit: 'bytes',
    default: limits.valueBytesMaxDefault, old: { flag: 'max-value-bytes', key: 'maxValueBytes' }, help: 'largest value accepted',
  },
  { key: 'sync', flag: 'sync', arg: 'normal|full', kind: 'enum', values: ['normal', 'full'], default: 'normal', help: 'SQLite durability: full also survives power loss' },
  {
    key: 'logLevel', flag: 'log-level', arg: 'LEVEL', kind: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    default: 'info', help: 'log level',
  },
  {
    key: 'probeIntervalMs', flag: 'probe-interval-ms', arg: 'MS', kind: 'integer', min: 50, max: 60_000, unit: 'ms',
    default: limits.peerProbeIntervalMsDefault, help: 'failure-detector ping interval',
  },
  {
    key: 'phiThreshold', flag: 'phi-threshold', arg: 'PHI', kind: 'number', min: limits.phiThresholdMin, max: limits.phiThresholdMax,
    default: limits.phiThresholdDefault, help: 'a peer whose phi (failure suspicion) exceeds this is believed down',
  },
  {
    key: 'handoffIntervalMs', flag: 'handoff-interval-ms', arg: 'MS', kind: 'integer', min: 10, max: 3_600_000, unit: 'ms',
    default: limits.handoffIntervalMsDefault, help: 'how often hints are offered to owners that are up',
  },
  {
    key: 'hintsPerPeerMax', flag: 'hints-per-peer-max', arg: 'N', kind: 'integer', min: 0, max: 100_000_000, unit: 'hints',
    default: limits.hintsPerPeerMaxDefault, help: 'hints kept for one peer at most',
  },
  {
    key: 'antiEntropyIntervalMs', flag: 'anti-entropy-interval-ms', arg: 'MS', kind: 'integer', min: 10, max: dayMs, unit: 'ms',
    default: limits.antiEntropyIntervalMsDefault, help: 'time between anti-entropy exchanges',
  },
  {
    key: 'gossipIntervalMs', flag: 'gossip-interval-ms', arg: 'MS', kind: 'integer', min: 50, max: 60_000, unit: 'ms',
    default: limits.gossipIntervalMsDefault, help: 'time between ring gossip rounds (each to one random member)',
  },
  {
    key: 'transferConcurrency', flag: 'transfer-concurrency', arg: 'N', kind: 'integer', min: 1, max: 64, unit: 'partitions',
    default: limits.transferConcurrencyDefault, help: 'partitions this node receives at once (changeable at run time)',
  },
  {
    key: 'transferBytesPerSecond', flag: 'transfer-bytes-per-second', arg: 'B', kind: 'integer', min: 1024, max: 10 * 1024 ** 3, unit: 'bytes/s',
    default: limits.transferBytesPerSecondDefault, help: 'bytes per second this node receives in transfers (changeable at run time)',
  },
  {
    key: 'tombstoneGraceMs', flag: 'tombstone-grace-ms', arg: 'MS', kind: 'integer', min: 0, max: 365 * dayMs, unit: 'ms',
    default: limits.tombstoneGraceMsDefault, help: 'minimum time a tombstone is kept',
  },
  // TLS (issue 15): the three files are read again on SIGHUP; whether TLS is on, and --tls-peer-auth, at start only.
  { key: 'tlsCert', flag: 'tls-cert', arg: 'FILE', kind: 'text', defaultText: 'none', help: 'PEM certificate (chain) this node serves HTTPS with; needs --tls-key' },
  { key: 'tlsKey', flag: 'tls-key', arg: 'FILE', kind: 'text', defaultText: 'none', help: 'PEM private key of --tls-cert' },
  { key: 'tlsCa', flag: 'tls-ca', arg: 'FILE', kind: 'text', defaultText: 'system CAs', help: 'PEM CA certificate(s) peers\' certificates are checked against' },
  { key: 'tlsPeerAuth', flag: 'tls-peer-auth', arg: '', kind: 'boolean', default: false, help: 'mutual TLS between nodes: present our certificate, refuse internal RPC without one the CA signed' },
  // Overload protection (issue 15)
  {
    key: 'clientRequestsInFlightMax', flag: 'client-requests-in-flight-max', arg: 'N', kind: 'integer', min: 1, max: limits.clientRequestsInFlightMaxLimit,
    unit: 'requests', default: limits.clientRequestsInFlightMaxDefault, help: 'client requests (/kv, /batch) worked on at once; more are answered 503 overloaded',
  },
  {
    key: 'eventLoopDelayMaxMs', flag: 'event-loop-delay-max-ms', arg: 'MS', kind: 'integer', min: 0, max: 60_000, unit: 'ms',
    default: limits.eventLoopDelayMaxMsDefault, help: 'mean event-loop delay past which client requests are answered 503 overloaded; 0: off',
  },
  {
    key: 'httpHeadersTimeoutMs', flag: 'http-headers-timeout-ms', arg: 'MS', kind: 'integer', min: 100, max: 600_000, unit: 'ms',
    default: limits.httpHeadersTimeoutMsDefault, help: 'time to receive a request\'s headers (then 408 and the connection is closed)',
  },
  {
    key: 'httpRequestTimeoutMs', flag: 'http-request-timeout-ms', arg: 'MS', kind: 'integer', min: 100, max: 3_600_000, unit: 'ms',
    default: limits.httpRequestTimeoutMsDefault, help: 'time to receive a whole request, body included (then 408); at least the headers timeout',
  },
  {
    key: 'httpKeepAliveTimeoutMs', flag: 'http-keep-alive-timeout-ms', arg: 'MS', kind: 'integer', min: 100, max: 600_000, unit: 'ms',
    default: limits.httpKeepAliveTimeoutMsDefault, help: 'an idle keep-alive connection is closed after this long',
  },
  // Client authentication (issue 15)
  {
    key: 'authFile', flag: 'auth-file', arg: 'FILE', kind: 'text', defaultText: 'none',
    help: 'client tokens (kvorum token create): every client and admin request then needs one; reread when it changes',
  },
  {
    key: 'metricsAccess', flag: 'metrics-access', arg: 'open|admin', kind: 'enum', values: ['open', 'admin'], default: 'open',
    help: 'with --auth-file, whether /metrics is open to anyone or needs an admin token',
  },
  // Operator logs (issue 16, point 7)
  {
    key: 'accessLog', flag: 'access-log', arg: '', kind: 'boolean', default: false,
    help: 'log one line per answered request (method, route, status, latency, coordinator, request id) at info',
  },
] as const satisfies readonly Knob[];

export type KnobKey = (typeof knobs)[number]['key'];

/** Flags of `kvorum start` that are not knobs. */
export const extraStartFlags = {
  config: { type: 'string' },
  join: { type: 'string' },
  // Validate and print the effective configuration, start nothing (src/cli/check-config.ts).
  'check-config': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type FlagOption = { readonly type: 'string' } | { readonly type: 'boolean'; readonly short?: string };

/** node:util parseArgs options of `kvorum start`: every knob's flag, its old name, and the extras. */
export function startFlagOptions(): Record<string, FlagOption> {
  const options: Record<string, FlagOption> = { ...extraStartFlags };
  for (const knob of knobs as readonly Knob[]) {
    const type = knob.kind === 'boolean' ? 'boolean' : 'string';
    options[knob.flag] = { type };
    if (knob.old) options[knob.old.flag] = { type };
  }
  return options;
}

/** The table's defaults, as config/default.json holds them. */
export function knobDefaults(): Record<string, KnobValue> {
  const defaults: Record<string, KnobValue> = {};
  for (const knob of knobs as readonly Knob[]) if (knob.default !== undefined) defaults[knob.key] = knob.default;
  return defaults;
}

/** The default as the usage text and docs show it. */
export function defaultText(knob: Knob): string {
  return knob.default !== undefined ? String(knob.default) : (knob.defaultText ?? 'none');
}
