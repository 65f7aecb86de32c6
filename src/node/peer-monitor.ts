// Probes every peer with a ping at a fixed interval so /cluster and `kvorum status` can say which
// members are up. It informs operators only; quorum decisions never depend on it.
import { peerProbeIntervalMs, peerProbeTimeoutMs } from '../core/limits.js';
import type { Transport } from '../core/runtime.js';
import type { NodeId } from '../core/types.js';
import type { MemberStatus } from '../api/admin-routes.js';

export class PeerMonitor {
  private readonly status = new Map<NodeId, MemberStatus>();
  private handle: NodeJS.Timeout | undefined;

  constructor(
    private readonly self: NodeId,
    private readonly peers: readonly NodeId[],
    private readonly transport: Transport,
  ) {}

  start(): void {
    this.probe();
    this.handle = setInterval(() => this.probe(), peerProbeIntervalMs);
    this.handle.unref();
  }

  stop(): void {
    clearInterval(this.handle);
  }

  statusOf(id: NodeId): MemberStatus {
    return id === this.self ? 'up' : (this.status.get(id) ?? 'unknown');
  }

  private probe(): void {
    for (const peer of this.peers) {
      if (peer === this.self) continue;
      this.transport.call(peer, { type: 'ping' }, peerProbeTimeoutMs).then(
        () => this.status.set(peer, 'up'),
        () => this.status.set(peer, 'down'),
      );
    }
  }
}
