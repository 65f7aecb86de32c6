// `kvorum status` (src/cli/status.ts) against a stub node serving GET /cluster: the PHI column
// (2 decimals, `-` where /cluster says null) and the hints summed over the members that answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterView } from '../../src/api/views.js';
import { printStatus } from '../../src/cli/status.js';

let server: Server;
let url = '';

function view(): ClusterView {
  return {
    node: 'n1',
    n: 3,
    partitions: 8,
    ringVersion: 4,
    claimant: 'n1',
    members: [
      { id: 'n1', url, membership: 'valid', status: 'up', phi: null, hintsPending: 0 },
      { id: 'n2', url: null, membership: 'valid', status: 'up', phi: 0, hintsPending: 0 },
      { id: 'n3', url: null, membership: 'leaving', status: 'down', phi: 848.28, hintsPending: 12 },
      { id: 'n4', url: null, membership: 'joining', status: 'unknown', phi: null, hintsPending: 0 },
    ],
    ring: Array.from({ length: 8 }, (_, p) => ({ partition: p, owners: ['n1', 'n2', 'n3'], pending: p < 2 ? ['n4'] : [] })),
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
      if (req.url !== '/cluster') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('prints each member with its status and phi', async () => {
    const { code, lines } = await statusLines();
    assert.equal(code, 0);
    assert.equal(lines[0], 'cluster as seen by n1: 4 members, N=3, 8 partitions, ring version 4, claimant n1');
    const rows = lines.slice(1, 6).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows[0], ['MEMBER', 'MEMBERSHIP', 'STATUS', 'PHI', 'URL', 'PARTITIONS', 'REPLICAS', 'HINTS_PENDING']);
    assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 4)), [['n1', 'valid', 'up', '-'], ['n2', 'valid', 'up', '0.00'], ['n3', 'leaving', 'down', '848.28'], ['n4', 'joining', 'unknown', '-']]);
    assert.deepEqual(rows[3]!.slice(4), ['-', '0', '8', '12'], 'n3: no URL, no partition first, 8 replicas, 12 hints (held by n1)');
    assert.equal(lines[6], '2 partitions moving: "kvorum admin transfers" shows their progress');
  });
});
