// Every bound in one place, unit last. Configurable values have their default here.

export const keyBytesMax = 512;
export const valueBytesMaxDefault = 1024 * 1024;
/** The largest `valueBytesMax` (`--value-bytes-max`) a node accepts. */
export const valueBytesMaxLimit = 64 * 1024 * 1024;
export const requestTimeoutMsDefault = 2000;
export const requestTimeoutMsMax = 60_000;
export const replicationFactorDefault = 3;
export const replicationFactorMax = 16;
export const partitionsDefault = 64;
export const partitionsMin = 8;
export const partitionsMax = 4096;
/** A context token larger than this is refused before decoding (it would be a bug or an attack). */
export const contextTokenBytesMax = 64 * 1024;
/**
 * Clock entries (version vector plus dot cloud) of one causal context, in a client's token, an
 * RPC message or a stored object. Actors are replicas x data-directory incarnations, so real
 * contexts have a handful; a token at this bound with the longest actor ids still fits in 64 KiB.
 */
export const contextEntriesMax = 256;
/**
 * How far ahead of this node's wall clock a client's context counter may be (x dotCountersPerMs):
 * counters start from the clock (dvv.ts), so one beyond it was forged. It leaves room to write on,
 * so a forged counter cannot wedge a key, and tolerates node clocks this far apart.
 */
export const contextClockAheadMsMax = 24 * 60 * 60 * 1000;
/** A stored Content-Type (as the client sent it) is at most this long. */
export const contentTypeBytesMax = 1024;
/** Request line plus headers: the largest context token fits with room to spare. */
export const requestHeaderBytesMax = 80 * 1024;
/** Siblings of one stored object a decoder accepts, in an RPC message or on disk (a sanity bound, not a policy). */
export const siblingsDecodeMax = 100_000;
/**
 * Siblings (values and tombstones) a client write may leave a key with at its coordinator; a write
 * that would leave more is refused (409 too_many_siblings). Replication between nodes is never refused.
 */
export const siblingsMax = 100;
/** The longest `ttl` (seconds) a PUT may give a value: 365 days. */
export const ttlSecondsMax = 365 * 24 * 60 * 60;
/** The latest expiry a stored value may carry (wall-clock ms): JavaScript's largest Date, so every expiry can be shown as one. */
export const expiresAtMsMax = 8_640_000_000_000_000;
/** Input quoted in an error message or a log line (a URL, a peer's answer, a parser's complaint), at most. */
export const quotedTextCharsMax = 200;
/** Text of an error a peer reports in an RPC reply (outcome or client result), at most. */
export const rpcErrorTextCharsMax = 4096;
/** A digest as anti-entropy and the reaper exchange it (hex SHA-1). */
export const digestCharsMax = 64;
/** Siblings above this count are logged as a warning: clients are writing blind. */
export const siblingsWarn = 25;
/** Extra time a forwarded request gets over the client's timeout, for the hop itself. */
export const forwardMarginMs = 500;
/** Connections kept per peer by the internal RPC client. */
export const rpcConnectionsPerPeer = 16;
/** Replica calls to one peer sent together in one HTTP request, at most. */
export const rpcBatchMax = 64;
/** Internal RPC bodies carry a batch of objects (values plus siblings and contexts). */
export const rpcBodyBytesMax = 64 * 1024 * 1024;
/** How often a node probes its peers (failure detection, status). */
export const peerProbeIntervalMsDefault = 1000;
export const peerProbeTimeoutMs = 500;
/**
 * Phi-accrual failure detector (phi-accrual.ts), Akka's defaults. Inter-arrival intervals kept per
 * peer: 1000 as Akka (max-sample-size) and Cassandra (ArrivalWindow) keep; 8 KiB a peer, and the
 * mean and deviation of a thousand samples are steady (the deviation within a few percent).
 */
export const phiWindowSamplesMax = 1000;
/** The deviation is never taken below this: perfectly regular heartbeats must not make a few ms of lateness fatal. */
export const phiStdDevMsMin = 100;
/**
 * Silence tolerated beyond the mean interval before phi starts to rise: one probe interval, so a
 * single lost or late ping is never a suspicion. The default interval's; the failure detector
 * uses the configured probe interval.
 */
export const phiAcceptablePauseMs = 1000;
/**
 * The interval assumed after a peer's first heartbeat, before it has produced one: the default
 * probe interval (the failure detector uses the configured one).
 */
export const phiFirstIntervalEstimateMs = 1000;
/**
 * A peer whose phi exceeds this is believed down (the `phiThreshold` knob's default): Cassandra's
 * phi_convict_threshold and Akka's default, a one-in-10^8 chance that a live peer would be this late.
 */
export const phiThresholdDefault = 8;
/** Bounds of the `phiThreshold` knob: below 1 a peer 10% late is convicted; above 100 phi has long stopped meaning odds. */
export const phiThresholdMin = 1;
export const phiThresholdMax = 100;
/** Timeout of replica calls made by background work (repair, handoff, anti-entropy, reaping). */
export const backgroundRpcTimeoutMs = 5000;
/** Read repairs in flight to one peer at most; more are skipped (anti-entropy covers them). */
export const readRepairInFlightPerPeerMax = 64;
/**
 * A read asks `r` replicas; one more primary when one of them fails, or when the quorum is still
 * not met this long after the read began (Cassandra's speculative retry): a paused or slow replica
 * costs a read this much, not its whole timeout. Well above a healthy reply's time.
 */
export const readSpeculateAfterMs = 50;
/** Hints per peer a node keeps at most; beyond it refuses to be a fallback for that peer. */
export const hintsPerPeerMaxDefault = 100_000;
/** Hints delivered per batch (one listing, sent concurrently, batched by the transport). */
export const handoffBatchMax = 256;
export const handoffIntervalMsDefault = 1000;
/** A tombstone may be reaped this long after the delete, once every primary holds it and no copy of the key is pending elsewhere. */
export const tombstoneGraceMsDefault = 60_000;
export const reapIntervalMsMin = 1000;
/** Reaped keys whose tombstone context a replica remembers (for a grace period) against late copies. */
export const reapedContextsMax = 100_000;
export const reapIntervalMsMax = 60_000;
/** Stored keys the reaper looks at per round. */
export const reapScanPerRoundMax = 10_000;
/** Time between two anti-entropy exchanges (each with one peer). */
export const antiEntropyIntervalMsDefault = 2000;
/** Keys one anti-entropy exchange repairs at most. */
export const antiEntropyKeysPerExchangeMax = 2000;
/** Graceful shutdown waits at most this long for in-flight requests. */
export const shutdownGraceMs = 10_000;
/** Staged storage writes above this are flushed at once: bounds a transaction's size and memory. */
export const storageBatchMax = 1024;
/**
 * Entries per storage call when scanning (reaping): one call and its decoding run without yielding,
 * ~1 ms at 1 KiB values here (512 stalled the event loop ~5-10 ms per page, 20 pages a round).
 */
export const scanPageSize = 64;
/** SQLite page cache per node's database (KiB): the indexes' inner pages of a few million keys. */
export const sqliteCacheKiB = 64 * 1024;
/** How often the WAL checkpointer's thread copies committed WAL frames into the database file. */
export const checkpointIntervalMs = 250;
/** SQLite's default automatic checkpoint threshold (pages), used again if the checkpointer stops. */
export const walAutocheckpointPages = 1000;
/**
 * WAL frames (pages, 4 KiB) beyond which the node's connection checkpoints the rest itself so the
 * WAL starts over (checkpointer.ts): 256 MiB. Each time stalls the node 10-30 ms (the frames since the
 * worker's last round and two fsyncs), about every 7 s under full write load: rare enough to stay
 * out of p99, while the WAL stays bounded.
 */
export const walRestartFramesMin = 65_536;
/** A storage meta record's name (Storage.putMeta), at most: names are chosen by code, not by clients. */
export const metaNameCharsMax = 200;
/** A storage meta record's bytes, at most: a ring or a cursor, never bulk data (it is read whole). */
export const metaBytesMax = 4 * 1024 * 1024;
/** A repeating operating condition (not a bug) is logged at most once per code and operation this often. */
export const failureRepeatIntervalMs = 10_000;
/** A connection being refused waits this long for answers owed to its earlier requests, beyond the longest request. */
export const owedAnswersExtraWaitMs = 5000;
/** Time for a refused connection to take its answer before it is destroyed. */
export const refusedConnectionLingerMs = 5000;
/** Path parameters longer than this are refused by the router (keys are at most keyBytesMax, percent-encoded x3). */
export const routeParamCharsMax = 4096;
/** Idle internal RPC connections are kept this long; a peer is given this long to accept a connection. */
export const rpcKeepAliveMs = 30_000;
export const rpcConnectTimeoutMs = 2000;
/** A peer that does not offer the RPC channel (an older node) is sent HTTP requests; the channel is tried again after this. */
export const channelFallbackRetryMs = 60_000;
/** Batches a peer may have in flight on one channel; past it the channel is not read until some are answered. */
export const channelBatchesInFlightMax = 256;
/** Catalogued error details in an RPC reply: names and text values at most this long. */
export const rpcErrorDetailNameCharsMax = 64;
export const rpcErrorDetailTextCharsMax = 256;
/** `kvorum cluster` waits this long for its nodes to be healthy, polling every clusterHealthPollMs. */
export const clusterHealthWaitMs = 30_000;
export const clusterHealthPollMs = 100;
/** `kvorum status` gives a node this long to answer. */
export const statusRequestTimeoutMs = 5000;

/**
 * A replica's first dot for a key is numbered at least wall-clock ms x this (dvv.ts, update), so
 * a key deleted, reaped and written again never reuses a dot. No actor writes one key 1000 times
 * a millisecond, so counters stay below the next floor; 2^53 is reached in the year 2255.
 */
export const dotCountersPerMs = 1000;

/** Passes of the claim's spreading swaps (core/claim.ts) at most: each is quadratic in the partitions moved. */
export const claimSwapPassesMax = 4;

// Membership (issue 12).
/** Members a ring may list, removed ones included: bounds a gossiped ring's size. */
export const ringMembersMax = 256;
/** Characters of a member's advertised URL. */
export const urlCharsMax = 2048;
/** Default time between two gossip rounds (each to one random member). */
export const gossipIntervalMsDefault = 1000;
/** Keys per transfer page: one page is one RPC and one durable batch on the receiver. */
export const transferPageKeysMax = 256;
/** Partitions a node receives at once, by default (changeable at run time). */
export const transferConcurrencyDefault = 2;
/** Bytes per second a node receives in transfers, by default (changeable at run time). */
export const transferBytesPerSecondDefault = 32 * 1024 * 1024;
/** Merkle comparisons with the source before a received partition counts as complete; more means retry later. */
export const transferVerifyRoundsMax = 8;
/** Objects deleted per storage call when a node drops a partition it no longer serves. */
export const dropBatchKeys = 512;

// Batches (issue 14, POST /batch).
/** Operations in one batch, at least 1 and at most this many. */
export const batchOpsMax = 100;
/** A batch's request body at most (413 value_too_large beyond). */
export const batchBytesMax = 16 * 1024 * 1024;
/** Keys a batch works on at once: ops on one key run in order, different keys this many at a time. */
export const batchKeysConcurrency = 8;

// Key listing (GET /kv, issue 14).
/** Keys per listing page, by default and at most (`limit`). */
export const listLimitDefault = 100;
export const listLimitMax = 1000;
/**
 * Stored rows one replica reads (and decodes) per listKeys call at most, live or not: tombstones
 * and expired values cost a page work even though they are not listed.
 */
export const listScanRowsMax = 1000;
/**
 * Rounds (one partition step: one replica call, or r of them in parallel) one listing page makes at
 * most: a page therefore reads at most listPageRoundsMax x listScanRowsMax rows per replica asked,
 * and may come back short (even empty) with a cursor when tombstones or a sparse prefix use it up.
 */
export const listPageRoundsMax = 64;
/** A listing cursor token longer than this is refused before decoding (the longest real one is ~4.2 KiB). */
export const listCursorCharsMax = 8192;

// TLS (issue 15).
/** A TLS handshake on the node's port must finish within this (Node's default, 120 s, lets idle handshakes hold sockets). */
export const tlsHandshakeTimeoutMs = 10_000;
// Overload protection (issue 15; docs/api.md, Overload). Defaults measured on a 2-core machine.
/** Client requests one node works on at once by default; past it they are answered 503 overloaded. */
export const clientRequestsInFlightMaxDefault = 256;
export const clientRequestsInFlightMaxLimit = 100_000;
/** Mean event-loop delay (ms, over one sample interval) past which client requests are shed by default. */
export const eventLoopDelayMaxMsDefault = 500;
/** How often the event-loop delay is sampled, and the timer resolution it is measured with. */
export const eventLoopSampleIntervalMs = 500;
export const eventLoopResolutionMs = 10;
/** Retry-After of a 503 overloaded: a shed request is cheap to retry a second later. */
export const overloadRetryAfterSeconds = 1;
/** Time to receive a request's headers; whole request (headers and body); idle keep-alive sockets. */
export const httpHeadersTimeoutMsDefault = 10_000;
export const httpRequestTimeoutMsDefault = 120_000;
export const httpKeepAliveTimeoutMsDefault = 10_000;
/** How often the server checks its connections against the header and request timeouts (Node's default is 30 s). */
export const httpTimeoutCheckIntervalMs = 1000;
// Client authentication (--auth-file, issue 15).
/** Random bytes of a token's secret: 256 bits, so guessing one is out of reach and a fast hash is enough. */
export const tokenSecretBytes = 32;
/** Random bytes of a token's id (the part that finds its entry in the auth file). */
export const tokenIdBytes = 8;
/** Random bytes of the salt stored with each token's hash. */
export const tokenSaltBytes = 16;
/** An Authorization header longer than this is refused (401) before it is parsed: a real one is ~70 characters. */
export const authorizationCharsMax = 256;
/** How often a node checks its --auth-file for changes (a stat; an edit applies within about this long). */
export const authFileCheckIntervalMs = 1000;
/** `kvorum token create --expires-in` at most: ten years. */
export const tokenExpiresInSecondsMax = 10 * 365 * 86_400;
/** Tokens one auth file may hold, and the largest file read: it is read whole on every change. */
export const authTokensMax = 10_000;
export const authFileBytesMax = 8 * 1024 * 1024;
/** A token's note (free text for people) at most. */
export const tokenNoteCharsMax = 200;

// ---- issue 16, web console and `kvorum status` (GET /admin/overview) ----
/** GET /admin/overview gives each member this long to answer; a slower one is reported unreachable. Short: the console asks about every second. */
export const overviewMemberTimeoutMs = 1000;
/** GET /ui's files larger than this are refused at start (they are read into memory once). */
export const uiFileBytesMax = 1024 * 1024;

// Backups and operator logs (issue 16, points 6 and 7).
/** Pages one step of an online backup copies before it yields to the event loop (4 KiB pages: 1 MiB). */
export const backupStepPages = 256;
/** A backup (copy, checksum and download together) is abandoned after this long and its temp file removed. */
export const backupDurationMsMax = 3_600_000;
/** Free space the data directory must keep beyond the copy's size, or a backup is refused. */
export const backupFreeBytesMargin = 64 * 1024 * 1024;
/** An X-Request-Id longer than this (or not of the safe characters) is replaced by a new one. */
export const requestIdCharsMax = 128;
/** The URL path an access-log line carries at most (keys can be 512 bytes, percent-encoded three times as long). */
export const accessLogUrlCharsMax = 256;
