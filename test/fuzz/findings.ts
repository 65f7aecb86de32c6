// What a run saw: counts of cases, requests and answers per family, and the findings, grouped by
// signature (the same defect seen 300 times is one finding with its first example and a count).
import type { CaseId, Family } from './types.js';

export interface Example {
  readonly caseId?: CaseId;
  readonly caseName: string;
  readonly step?: number;
  readonly node?: string;
  /** The request as a replayable JS expression of its bytes. */
  readonly request?: string;
  /** The answer(s): status, headers of interest, start of the body. */
  readonly response?: string;
  readonly tags?: readonly string[];
  readonly why?: readonly string[];
  /** Node output at the time (crashes). */
  readonly logTail?: string;
  /** Other requests worth looking at (what a node was doing when it died). */
  readonly related?: readonly string[];
}

export interface Finding {
  /** What makes two observations the same finding. */
  readonly signature: string;
  readonly check: string;
  readonly family: Family | 'cluster';
  readonly summary: string;
  readonly message: string;
  count: number;
  /** The case kinds it was seen in. */
  readonly seenIn: Set<string>;
  readonly example: Example;
}

/** Most serious first: a finding list is read from the top. */
const checkOrder = [
  'node-crash',
  'restart-failed',
  'canary-damaged',
  'internal-error',
  'hang',
  'no-answer',
  'garbled-response',
  'refused-but-applied',
  'stored-mismatch',
  'unclean-shutdown',
  'shutdown-hang',
  'down-at-end',
  'unhealthy-after-fuzz',
  'unhealthy-after-restart',
  'unexpected-status',
  'rpc-outcome-error',
  'bad-success-body',
  'not-catalogued',
  'missing-node-header',
  'connect-failed',
];
const rank = (check: string) => {
  const i = checkOrder.indexOf(check);
  return i < 0 ? checkOrder.length : i;
};

export class Findings {
  private readonly bySignature = new Map<string, Finding>();

  add(f: Omit<Finding, 'count' | 'seenIn'>): void {
    const known = this.bySignature.get(f.signature);
    if (known) {
      known.count++;
      known.seenIn.add(f.example.caseName);
    } else this.bySignature.set(f.signature, { ...f, count: 1, seenIn: new Set([f.example.caseName]) });
  }

  /** Most serious first, then most frequent. */
  list(): Finding[] {
    return [...this.bySignature.values()].sort((a, b) => rank(a.check) - rank(b.check) || b.count - a.count);
  }

  get total(): number {
    return this.list().reduce((sum, f) => sum + f.count, 0);
  }
}

/** One request sent. */
export interface RequestRecord {
  /** `worker.index` of its case. */
  readonly case: string;
  readonly name: string;
  readonly family: Family;
  readonly step: number;
  readonly node: string;
  readonly method: string;
  /** The request-target (start of it), as sent. */
  readonly path: string;
  /** Each answer's status and error code (`400 invalid_key`), or `closed`, `timeout`, `refused`, `lost-to-crash`. */
  readonly outcomes: readonly string[];
}

/** Every request a run sent, and counters over them. */
export class Stats {
  readonly cases = new Map<Family, number>();
  readonly requests = new Map<Family, number>();
  /** Per family, answers by status and code. */
  readonly statuses = new Map<Family, Map<string, number>>();
  readonly caseNames = new Map<string, number>();
  readonly log: RequestRecord[] = [];
  skippedSteps = 0;

  countCase(family: Family, name: string): void {
    this.cases.set(family, (this.cases.get(family) ?? 0) + 1);
    this.caseNames.set(name, (this.caseNames.get(name) ?? 0) + 1);
  }

  record(r: RequestRecord): void {
    this.log.push(r);
    this.requests.set(r.family, (this.requests.get(r.family) ?? 0) + 1);
    const byStatus = this.statuses.get(r.family) ?? new Map<string, number>();
    this.statuses.set(r.family, byStatus);
    for (const o of r.outcomes) byStatus.set(o, (byStatus.get(o) ?? 0) + 1);
  }

  totalRequests(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }

  totalCases(): number {
    return [...this.cases.values()].reduce((a, b) => a + b, 0);
  }
}
