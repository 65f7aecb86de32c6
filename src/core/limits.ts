// Every bound in one place, unit last. Configurable values have their default here.

export const keyBytesMax = 512;
export const valueBytesMaxDefault = 1024 * 1024;
export const requestTimeoutMsDefault = 2000;
export const requestTimeoutMsMax = 60_000;
export const replicationFactorDefault = 3;
export const partitionsDefault = 64;
export const partitionsMin = 8;
export const partitionsMax = 4096;
/** A context token larger than this is refused before decoding (it would be a bug or an attack). */
export const contextTokenBytesMax = 64 * 1024;
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
/** How often a node probes its peers to report their status. */
export const peerProbeIntervalMs = 1000;
export const peerProbeTimeoutMs = 500;
/** Graceful shutdown waits at most this long for in-flight requests. */
export const shutdownGraceMs = 10_000;
