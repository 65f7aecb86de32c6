// Read repair (Dynamo section 4.6 / 5): after a read has answered its client, replicas whose reply
// was stale or missing get the merged object. Never on the client's path, and bounded per peer so
// a slow replica is not flooded: over the bound a repair is skipped (anti-entropy catches it).
import { sameVersion } from './dvv.js';
import type { CoreMetrics } from './metrics.js';
import type { Reply } from './quorum-wait.js';
import type { LocalReplica } from './replica.js';
import type { Logger } from './ports.js';
import type { RpcClient } from './rpc-client.js';
import type { NodeId, VersionedObject } from './types.js';

export interface ReadRepairDeps {
  readonly self: NodeId;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  readonly inFlightPerPeerMax: number;
  readonly timeoutMs: number;
}

export class ReadRepair {
  private readonly inFlight = new Map<NodeId, number>();

  constructor(private readonly deps: ReadRepairDeps) {}

  /** Sends `merged` to every replier whose copy differs from it. Returns the number of repairs started. */
  repair(key: string, replies: readonly Reply<VersionedObject | undefined>[], merged: VersionedObject | undefined): number {
    if (merged === undefined) return 0;
    let started = 0;
    for (const reply of replies) {
      if (sameVersion(reply.value, merged)) continue;
      const peer = reply.node;
      const busy = this.inFlight.get(peer) ?? 0;
      if (busy >= this.deps.inFlightPerPeerMax) {
        this.deps.metrics.inc('read_repairs_skipped');
        continue;
      }
      this.inFlight.set(peer, busy + 1);
      started++;
      this.deps.metrics.inc('read_repairs');
      this.deps.replica
        .sendingWhile(key, this.send(peer, key, merged))
        .catch((err: unknown) => this.deps.log.debug({ peer, key, err: (err as Error).message }, 'read repair failed'))
        .finally(() => this.inFlight.set(peer, (this.inFlight.get(peer) ?? 1) - 1));
    }
    return started;
  }

  private async send(peer: NodeId, key: string, merged: VersionedObject): Promise<void> {
    if (peer === this.deps.self) {
      await this.deps.replica.merge(key, merged);
      return;
    }
    await this.deps.rpc.call(peer, { type: 'replicate', key, object: merged }, this.deps.timeoutMs);
  }
}
