// Resource samples of the membership bench's processes, read from /proc (Linux) every
// `intervalMs`: resident memory now (VmRSS), its peak so far (VmHWM: exact, kept by the kernel)
// and CPU seconds used. A node that stops itself (a leaving node) keeps the last sample taken
// before it exited, so its VmHWM is exact up to at most one interval before its exit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcSample {
  /** Epoch ms. */
  readonly t: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
  readonly cpuSeconds: number;
  /** Time the main thread (the event loop) was runnable but waiting for a CPU (/proc/PID/schedstat), seconds so far. */
  readonly runWaitSeconds: number;
}

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** One sample of process `pid`, or undefined if it is gone (or this is not Linux). */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    if (Number.isNaN(kb('VmRSS'))) return undefined; // a zombie (exited, not yet reaped) has no memory lines
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const runWaitNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return { t: Date.now(), rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM'), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicks, runWaitSeconds: runWaitNs / 1e9 };
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has been busy (every process; not idle, not waiting for I/O), and all of it. */
export function sampleMachine(): { t: number; busySeconds: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return { t: Date.now(), busySeconds: (user! + nice! + system! + irq! + softirq! + steal!) / clockTicks };
  } catch {
    return undefined;
  }
}

/** Samples every process `targets()` names (label -> pid) until stopped, and the whole machine's CPU. */
export class ProcSampler {
  readonly samples = new Map<string, ProcSample[]>();
  readonly machine: { t: number; busySeconds: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly targets: () => ReadonlyMap<string, number>,
    intervalMs: number,
  ) {
    this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  tick(): void {
    const m = sampleMachine();
    if (m !== undefined) this.machine.push(m);
    for (const [label, pid] of this.targets()) {
      const s = sampleProc(pid);
      if (s === undefined) continue;
      const list = this.samples.get(label) ?? [];
      list.push(s);
      this.samples.set(label, list);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.tick();
  }

  /** Peak VmHWM seen for `label` (the process's exact peak RSS up to its last sample). */
  peakBytes(label: string): number {
    const all = this.samples.get(label) ?? [];
    return all.length === 0 ? NaN : Math.max(...all.map((s) => s.hwmBytes));
  }

  /** CPU cores the whole machine used in [fromMs, toMs) (every process, ours and others). */
  machineCores(fromMs: number, toMs: number): number {
    const inside = this.machine.filter((s) => s.t >= fromMs && s.t < toMs);
    const before = [...this.machine].reverse().find((s) => s.t < fromMs) ?? inside[0];
    const last = inside.at(-1);
    return before === undefined || last === undefined || last.t === before.t ? NaN : (last.busySeconds - before.busySeconds) / ((last.t - before.t) / 1000);
  }

  /** Highest VmRSS sampled for `label` in [fromMs, toMs), and the CPU and run-queue wait seconds per second in that window. */
  window(label: string, fromMs: number, toMs: number): { maxRssBytes: number; cpuCores: number; runWait: number } {
    const all = this.samples.get(label) ?? [];
    const inside = all.filter((s) => s.t >= fromMs && s.t < toMs);
    if (inside.length === 0) return { maxRssBytes: NaN, cpuCores: NaN, runWait: NaN };
    // From the last sample before the window (or its first) to the last one inside it.
    const first = [...all].reverse().find((s) => s.t < fromMs) ?? inside[0]!;
    const last = inside.at(-1)!;
    const seconds = (last.t - first.t) / 1000;
    return {
      maxRssBytes: Math.max(...inside.map((s) => s.rssBytes)),
      cpuCores: seconds > 0 ? (last.cpuSeconds - first.cpuSeconds) / seconds : NaN,
      runWait: seconds > 0 ? (last.runWaitSeconds - first.runWaitSeconds) / seconds : NaN,
    };
  }
}
