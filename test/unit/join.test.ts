// `kvorum start --join`: registering through a member, against a fake member on 127.0.0.1. A
// transient failure (no answer in time, the claimant unreachable) is asked again; a refusal is not,
// nor is a join with another secret (refused before the member runs anything).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { rpcRoutes } from '../../src/api/rpc-routes.js';
import type { RpcHandler } from '../../src/core/rpc-handler.js';
import type { AdminOutcome, RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { asNodeId } from '../../src/core/types.js';
import type { NodeConfig } from '../../src/node/config.js';
import { joinCluster, JoinError } from '../../src/node/join.js';

const secret = 'join-secret';
const ring = genesisOfIds([asNodeId('n1'), asNodeId('n2'), asNodeId('n3')], 64, 3);
const config = { id: asNodeId('n4'), partitions: 64, n: 3, secret } as NodeConfig;

describe('joinCluster', () => {
  let app: FastifyInstance;
  let url: string;
  /** The outcomes the fake member answers, in turn (the last one repeats). */
  let answers: AdminOutcome[] = [];
  let asked = 0;

  before(async () => {
    app = Fastify();
    const rpc = {
      async handle(request: RpcRequest): Promise<RpcResponse> {
        assert.equal(request.type, 'admin');
        return { type: 'admin', outcome: answers[Math.min(asked++, answers.length - 1)]! };
      },
    } as unknown as RpcHandler;
    await app.register(rpcRoutes, { rpc, secret });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  it('asks again when the member cannot reach the claimant, and starts from the ring it then gets', async () => {
    asked = 0;
    answers = [
      { ok: false, code: 'claimant_unreachable', message: 'the claimant n1 cannot be reached (timeout)' },
      { ok: true, before: ring, after: ring },
    ];
    assert.deepEqual(await joinCluster(config, url, 'http://127.0.0.1:1'), ring);
    assert.equal(asked, 2);
  });

  it('does not ask again when the join is refused', async () => {
    asked = 0;
    answers = [{ ok: false, code: 'membership_refused', message: 'node id n4 is already taken' }];
    await assert.rejects(joinCluster(config, url, 'http://127.0.0.1:1'), (err: Error) => err instanceof JoinError && /already taken/.test(err.message));
    assert.equal(asked, 1);
  });

  it('gives up after 5 attempts, saying why', async () => {
    asked = 0;
    answers = [{ ok: false, code: 'claimant_unreachable', message: 'the claimant n1 cannot be reached (timeout)' }];
    await assert.rejects(joinCluster(config, url, 'http://127.0.0.1:1'), (err: Error) => err instanceof JoinError && /cannot be reached/.test(err.message));
    assert.equal(asked, 5);
  });

  it('is refused at once, asking nothing, when its secret is not the cluster\'s', async () => {
    asked = 0;
    answers = [{ ok: true, before: ring, after: ring }];
    await assert.rejects(
      joinCluster({ ...config, secret: 'another-secret' }, url, 'http://127.0.0.1:1'),
      (err: Error) => err instanceof JoinError && /refused our cluster secret: start with the cluster's secret \(--secret-file\)/.test(err.message),
    );
    assert.equal(asked, 0, 'the member ran nothing');
  });
});
