// Watches the cluster's nodes while the fuzzer runs: a node that exits is a finding (its exit
// status, the error it printed, the requests it was handling), and is restarted so that the
// fuzzing goes on, up to a bound on restarts.
import type { TestNode } from '../kit/test-cluster.js';
import type { Findings } from './findings.js';
import type { Journal } from './journal.js';

const pollMs = 200;
const exitStatusWaitMs = 2000;
const logLinesKept = 40;

/** The line of a node's output that names the error it died of, digits blanked (for grouping). */
export function deathCause(logs: string): string {
  const lines = logs.split('\n');
  // An uncaught exception is printed on stderr; failing that, the last fatal or error log line.
  const errorLine =
    lines.find((l) => /^\[\S+ err\] (Uncaught )?\w*(Error|Exception)( \[\w+\])?: /.test(l)) ??
    lines.find((l) => /^\[\S+ err\] .*(\w*Error\b|Uncaught|FATAL|Assertion)/.test(l)) ??
    [...lines].reverse().find((l) => /"level":60/.test(l)) ??
    [...lines].reverse().find((l) => /"level":50/.test(l));
  if (!errorLine) return 'no error printed';
  const text = errorLine.replace(/^\[\S+ \w+\] /, '');
  const msg = /"msg":"([^"]*)"/.exec(text)?.[1] ?? text;
  return msg.replace(/[0-9]+/g, 'N').slice(0, 160);
}

export class CrashMonitor {
  private readonly deathCounts: number[];
  private readonly restarting = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void>[] = [];
  restarts = 0;

  constructor(
    private readonly nodes: readonly TestNode[],
    private readonly findings: Findings,
    private readonly journal: Journal,
    private readonly maxRestarts: number,
  ) {
    this.deathCounts = nodes.map(() => 0);
  }

  deaths(i: number): number {
    return this.deathCounts[i]!;
  }

  /** Running and not being restarted (a restarting node runs before it listens). */
  available(i: number): boolean {
    return this.nodes[i]!.running() && !this.restarting.has(i);
  }

  /** Whether restarts are used up (the fuzzing should stop). */
  get exhausted(): boolean {
    return this.restarts >= this.maxRestarts;
  }

  start(): void {
    const tick = () => {
      this.nodes.forEach((node, i) => {
        if (!node.running() && !this.restarting.has(i)) this.pending.push(this.handleDeath(i));
      });
      this.timer = setTimeout(tick, pollMs);
    };
    this.timer = setTimeout(tick, pollMs);
  }

  /**
   * Keeps watching for `observeMs` more (a node may die just after answering: the failure runs in a
   * timer), then stops and waits for restarts in progress.
   */
  async stop(observeMs: number): Promise<void> {
    const until = Date.now() + observeMs;
    while (Date.now() < until && this.nodes.every((n) => n.running())) await new Promise((resolve) => setTimeout(resolve, pollMs / 4));
    clearTimeout(this.timer);
    this.nodes.forEach((node, i) => {
      if (!node.running() && !this.restarting.has(i)) this.pending.push(this.handleDeath(i));
    });
    await Promise.all(this.pending);
  }

  private async handleDeath(i: number): Promise<void> {
    const node = this.nodes[i]!;
    this.restarting.add(i);
    this.deathCounts[i]!++;
    try {
      const status = await node.waitExit(exitStatusWaitMs).catch(() => undefined);
      const logTail = node.logs().split('\n').slice(-logLinesKept).join('\n');
      const cause = deathCause(logTail);
      const related = this.journal.describe(i);
      this.findings.add({
        signature: `node-crash|${cause}`,
        check: 'node-crash',
        family: 'cluster',
        summary: `${node.id} exited (${status ? `code ${status.code}, signal ${status.signal}` : 'status unknown'}): ${cause}`,
        message: `node ${node.id} died while fuzzed; below, its last requests: those the crash cut off first, then those it had answered (the culprit may be among either: a failure can run in a timer after the answer)`,
        example: { caseName: 'node-crash', node: node.id, logTail, related },
      });
      if (this.restarts < this.maxRestarts) {
        this.restarts++;
        await node.restart();
      }
    } catch (err) {
      const logTail = node.logs().split('\n').slice(-logLinesKept).join('\n');
      const cause = deathCause(logTail);
      this.findings.add({
        signature: `restart-failed|${cause}`,
        check: 'restart-failed',
        family: 'cluster',
        summary: `${node.id} could not be restarted after a crash: ${cause}`,
        message: (err as Error).message.slice(0, 2000),
        example: { caseName: 'node-crash', node: node.id, logTail },
      });
    } finally {
      if (node.running()) this.restarting.delete(i);
    }
  }
}
