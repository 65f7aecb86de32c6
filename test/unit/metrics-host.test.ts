// kvorum_member_up and the data directory gauges (src/api/metrics-host.ts), read at each scrape.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/api/metrics.js';

type Status = 'up' | 'down' | 'unknown';

function metricsOver(peers: Map<string, Status>, dataDir: string) {
  return createMetrics('n1', { hintCounts: () => new Map(), transferStates: () => [], partitionsMoving: () => 0, peerStatuses: () => peers, dataDir });
}

const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

describe('host gauges', () => {
  it('kvorum_member_up: 1 for up, 0 for down and not heard from, and a member gone from the ring has no series', async () => {
    const peers = new Map<string, Status>([['n2', 'up'], ['n3', 'down'], ['n4', 'unknown']]);
    const metrics = metricsOver(peers, tmpdir());
    let text = await metrics.registry.metrics();
    assert.equal(line(text, 'kvorum_member_up{member="n2"'), 'kvorum_member_up{member="n2",node="n1"} 1');
    assert.equal(line(text, 'kvorum_member_up{member="n3"'), 'kvorum_member_up{member="n3",node="n1"} 0');
    assert.equal(line(text, 'kvorum_member_up{member="n4"'), 'kvorum_member_up{member="n4",node="n1"} 0');
    peers.delete('n3');
    text = await metrics.registry.metrics();
    assert.equal(line(text, 'kvorum_member_up{member="n3"'), undefined);
  });

  it('kvorum_data_dir_*_bytes: the filesystem of the data dir, NaN once it is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-statfs-'));
    const metrics = metricsOver(new Map(), dir);
    let text = await metrics.registry.metrics();
    const free = Number(line(text, 'kvorum_data_dir_free_bytes{')?.split(' ')[1]);
    const size = Number(line(text, 'kvorum_data_dir_size_bytes{')?.split(' ')[1]);
    assert.ok(size > 0 && free >= 0 && free <= size, `free ${free} of ${size}`);
    rmSync(dir, { recursive: true });
    text = await metrics.registry.metrics();
    // prom-client writes NaN as "Nan"; Prometheus parses it (Go's ParseFloat ignores case).
    assert.match(line(text, 'kvorum_data_dir_free_bytes{') ?? '', /^kvorum_data_dir_free_bytes\{node="n1"\} nan$/i);
    assert.match(line(text, 'kvorum_data_dir_size_bytes{') ?? '', /^kvorum_data_dir_size_bytes\{node="n1"\} nan$/i);
  });
});
