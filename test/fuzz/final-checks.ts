// After the fuzzing: every node healthy; SIGTERM stops each with exit code 0; each restarts and is
// healthy again; every canary reads back byte for byte with its Content-Type through every node.
import { http } from '../kit/http.js';
import type { TestCluster, TestNode } from '../kit/test-cluster.js';
import { checkCanaries, type Canary, type Own } from './canaries.js';
import { deathCause } from './crash-monitor.js';
import type { Findings } from './findings.js';

/** A graceful stop waits at most 10 s for in-flight requests (README, Durability); a margin on top. */
const shutdownDeadlineMs = 15_000;
const healthTimeoutMs = 3000;
const logLinesKept = 30;

function clusterFinding(findings: Findings, check: string, node: TestNode | undefined, summary: string, message: string, logTail?: string): void {
  findings.add({
    signature: `${check}|${summary.replace(/[0-9]+/g, 'N')}`,
    check,
    family: 'cluster',
    summary,
    message,
    example: { caseName: check, ...(node ? { node: node.id } : {}), ...(logTail ? { logTail } : {}) },
  });
}

const tail = (node: TestNode) => node.logs().split('\n').slice(-logLinesKept).join('\n');

async function healthOf(node: TestNode, own: Own): Promise<string | undefined> {
  try {
    const res = await http('GET', `${node.url}/health`, { timeoutMs: healthTimeoutMs, ...(own.dispatcher ? { dispatcher: own.dispatcher } : {}) });
    return res.status === 200 ? undefined : `${res.status} ${res.text().slice(0, 200)}`;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function finalChecks(cluster: TestCluster, canaries: readonly Canary[], findings: Findings, log: (line: string) => void, own: Own = {}): Promise<void> {
  log('final checks: health, SIGTERM, restart, canaries');
  for (const node of cluster.nodes) {
    if (!node.running()) {
      clusterFinding(findings, 'down-at-end', node, `${node.id} is not running after the fuzzing`, 'see the node-crash finding', tail(node));
      continue;
    }
    const bad = await healthOf(node, own);
    if (bad) clusterFinding(findings, 'unhealthy-after-fuzz', node, `${node.id} /health after the fuzzing: ${bad.slice(0, 80)}`, bad, tail(node));
  }

  const running = cluster.nodes.filter((n) => n.running());
  for (const node of running) node.kill('SIGTERM');
  await Promise.all(
    running.map(async (node) => {
      try {
        const status = await node.waitExit(shutdownDeadlineMs);
        if (status.code !== 0 || status.signal !== null) {
          clusterFinding(findings, 'unclean-shutdown', node, `${node.id} exited with code ${status.code}, signal ${status.signal} on SIGTERM`, 'expected exit code 0', tail(node));
        }
      } catch (err) {
        clusterFinding(findings, 'shutdown-hang', node, `${node.id} did not exit within ${shutdownDeadlineMs} ms of SIGTERM`, (err as Error).message, tail(node));
        node.kill('SIGKILL');
        await node.waitExit(shutdownDeadlineMs).catch(() => undefined);
      }
    }),
  );

  await Promise.all(
    cluster.nodes.map(async (node) => {
      try {
        await node.restart();
      } catch (err) {
        clusterFinding(findings, 'restart-failed', node, `${node.id} did not come back after SIGTERM: ${deathCause(tail(node))}`, (err as Error).message.slice(0, 3000), tail(node));
      }
    }),
  );
  const up = cluster.nodes.filter((n) => n.running());
  for (const node of up) {
    const bad = await healthOf(node, own);
    if (bad) clusterFinding(findings, 'unhealthy-after-restart', node, `${node.id} /health after the restart: ${bad.slice(0, 80)}`, bad, tail(node));
  }
  if (up.length !== cluster.nodes.length) return;
  const problems = await checkCanaries(up, canaries, own);
  for (const p of problems) clusterFinding(findings, 'canary-damaged', undefined, `canary damaged: ${p.replace(/canary-[0-9a-f]+ via n[0-9]+: /, '').slice(0, 100)}`, p);
  log(`final checks: ${canaries.length} canaries read through ${up.length} nodes, ${problems.length} problem(s)`);
}
