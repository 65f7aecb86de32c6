// `kvorum status` (src/cli/status.ts) against a stub node serving GET /admin/overview: the PHI column
// (2 decimals, `-` where it says null), the hints pending for each member (summed over the members
// that answered), the ring version, hints held and anti-entropy lag of each member, the transfers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OverviewView } from '../../src/api/views.js';
import { printStatus } from '../../src/cli/status.js';

let server: Server;
let url = '';

const requests = { count: 0, latencySecondsSum: 0, buckets: [] };
const antiEntropy = (sinceLastMs: number | null) => ({ sinceLastMs, exchanges: 3, keysRepaired: 1, peers: [] });
type Member = OverviewView['members'][number];
const member = (id: string, fields: Partial<Member>): Member => ({
  id, url: null, membership: 'valid', status: 'up', phi: 0, reachable: true, ringVersion: 4, uptimeSeconds: 60, hintsHeld: 0, hintsFor: 0,
  antiEntropy: antiEntropy(1500), requests, ...fields,
});

function view(): OverviewView {
  return {
    node: 'n1',
    n: 3,
    partitions: 8,
    ringVersion: 4,
    claimant: 'n1',
    members: [
      member('n1', { url, phi: null, hintsHeld: 12 }),
      member('n2', { ringVersion: 3, antiEntropy: antiEntropy(null) }),
      member('n3', { membership: 'leaving', status: 'down', phi: 848.28, hintsFor: 12, reachable: false, ringVersion: null, hintsHeld: null, antiEntropy: null, requests: null, uptimeSeconds: null }),
      member('n4', { membership: 'joining', status: 'unknown', phi: null, antiEntropy: antiEntropy(62_000) }),
    ],
    ring: Array.from({ length: 8 }, (_, p) => ({ partition: p, owners: ['n1', 'n2', 'n3'], pending: p < 2 ? ['n4'] : [] })),
    transfers: {
      ringVersion: 4, partitionsMoving: 2, keysLeft: 150, etaSeconds: 3,
      transfers: [0, 1].map((p) => ({ partition: p, to: 'n4', leaving: ['n3'], state: p === 0 ? 'streaming' : 'queued', from: p === 0 ? 'n1' : null, keys: p === 0 ? 50 : 0, bytes: p === 0 ? 4096 : 0, keysPerSecond: 50, bytesPerSecond: 0, error: null, keysTotal: 100, etaSeconds: null })),
    },
  };
}

/** Runs printStatus with console.log captured. */
async function statusLines(): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  try {
    return { code: await printStatus(url), lines };
  } finally {
    console.log = original;
  }
}

describe('kvorum status', () => {
  before(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/admin/overview') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('prints each member with its status, phi, ring version, hints and anti-entropy lag, then the transfers', async () => {
    const { code, lines } = await statusLines();
    assert.equal(code, 0);
    assert.equal(lines[0], 'cluster as seen by n1: 4 members, N=3, 8 partitions, ring version 4, claimant n1');
    const rows = lines.slice(1, 6).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows[0], ['MEMBER', 'MEMBERSHIP', 'STATUS', 'PHI', 'URL', 'PARTITIONS', 'REPLICAS', 'HINTS_PENDING', 'RING_VERSION', 'HINTS_HELD', 'AE_LAG_S']);
    assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 4)), [['n1', 'valid', 'up', '-'], ['n2', 'valid', 'up', '0.00'], ['n3', 'leaving', 'down', '848.28'], ['n4', 'joining', 'unknown', '-']]);
    assert.deepEqual(rows[3]!.slice(4), ['-', '0', '8', '12', '-', '-', '-'], 'n3: no URL, no partition first, 8 replicas, 12 hints (held by n1), unreachable');
    assert.deepEqual(rows[1]!.slice(8), ['4', '12', '1.5'], 'n1: ring version 4, holds 12 hints, last exchange 1.5 s ago');
    assert.deepEqual(rows[2]!.slice(8), ['3', '0', '-'], 'n2: an older ring, no exchange yet');
    assert.deepEqual(rows[4]!.slice(8), ['4', '0', '62.0']);
    assert.equal(lines[6], '2 partitions moving, 150 keys left, ETA 3 s:');
    assert.deepEqual(lines.slice(7, 10).map((l) => l.trim().split(/\s+/)), [
      ['PARTITION', 'FROM', 'TO', 'STATE', 'KEYS', 'BYTES'],
      ['0', 'n3', 'n4', 'streaming', '50/100', '4096'],
      ['1', 'n3', 'n4', 'queued', '0/100', '0'],
    ]);
    assert.match(lines[10]!, /^\(n3 did not answer n1/);
  });
});
