// What a node reads again without a restart, on SIGHUP (cli/kvorum.ts): each part reloads on its
// own, and one that fails keeps what it had and is logged; a reload never stops the node.
import type { FastifyBaseLogger } from 'fastify';

export interface Reloadable {
  /** What it is, for the log ("TLS certificates"). */
  readonly what: string;
  /** Reads it again and puts it in use; throws, having changed nothing, when it cannot. Returns fields for the log line. */
  reload(): Record<string, unknown>;
}

export function reloadAll(parts: readonly Reloadable[], log: FastifyBaseLogger): void {
  for (const part of parts) {
    try {
      log.info({ reloaded: part.what, ...part.reload() }, `${part.what} reloaded`);
    } catch (err) {
      log.error({ reloaded: part.what, err: (err as Error).message }, `${part.what} not reloaded: the ones in use stay`);
    }
  }
}
