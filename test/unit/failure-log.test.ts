// Internal failures: the catalog (src/core/errors.ts) and section 5 of docs/api.md list the same
// codes and classes, and FailureLog logs each class at its level, holding back repeated conditions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureCatalog, failureClassOf, failureCodeOf, InvariantError, KvError } from '../../src/core/errors.js';
import { FailureLog } from '../../src/core/failure-log.js';
import { failureRepeatIntervalMs } from '../../src/core/limits.js';
import { HintsFullError } from '../../src/core/replica.js';
import { TransportError, type Logger } from '../../src/core/ports.js';
import { asNodeId } from '../../src/core/types.js';

/** `| \`code\` | class | meaning |` rows of the "Failures in the log" table, as "code class". */
function documentedFailures(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf('## 5. Failures in the log'));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| ([a-z]+) \|/gm)];
  return rows.filter((m) => m[1] !== 'failure').map((m) => `${m[1]} ${m[2]}`); // not the header row
}

function recordingLog(): Logger & { lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, message, fields: fields as Record<string, unknown> });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('failure catalog', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');
  const catalogued = Object.entries(failureCatalog).map(([code, f]) => `${code} ${f.class}`);

  it('docs/api.md section 5 lists exactly the catalogued codes and classes', () => {
    assert.deepEqual(documentedFailures(doc).sort(), catalogued.sort());
    // Able to fail: a row dropped from the document is noticed.
    const without = doc.replace(/^\| `hints_full` \|.*\n/m, '');
    assert.notDeepEqual(documentedFailures(without).sort(), catalogued.sort());
  });

  it('classifies errors by their code; anything unknown is a bug', () => {
    const peer = asNodeId('n2');
    assert.equal(failureCodeOf(new TransportError(peer, 'timeout', 'slow')), 'peer_timeout');
    assert.equal(failureCodeOf(new TransportError(peer, 'protocol', 'odd reply')), 'peer_protocol');
    assert.equal(failureCodeOf(new HintsFullError('full')), 'hints_full');
    assert.equal(failureCodeOf(new KvError('invalid_context')), 'request_refused');
    assert.equal(failureCodeOf(new InvariantError('quorum above N')), 'invariant_violated');
    assert.equal(failureCodeOf(Object.assign(new Error('x'), { failureCode: 'made_up' })), 'unexpected');
    assert.equal(failureCodeOf(undefined), 'unexpected');
    assert.equal(failureClassOf(new TypeError('x is not a function')), 'bug');
    assert.equal(failureClassOf(new TransportError(peer, 'unreachable', 'refused')), 'condition');
  });
});

describe('FailureLog', () => {
  it('logs a bug every time, at error with the error itself', () => {
    const log = recordingLog();
    const failures = new FailureLog({ log, now: () => 0 });
    const bug = new TypeError('x is not a function');
    failures.failed('round', bug);
    failures.failed('round', bug);
    assert.deepEqual(log.lines.map((l) => [l.level, l.message, l.fields['failure'], l.fields['err']]), [
      ['error', 'round failed (a bug)', 'unexpected', bug],
      ['error', 'round failed (a bug)', 'unexpected', bug],
    ]);
  });

  it('holds back a repeating condition and says how many lines it held back', () => {
    const log = recordingLog();
    let nowMs = 0;
    const failures = new FailureLog({ log, now: () => nowMs });
    const down = new TransportError(asNodeId('n3'), 'unreachable', 'ECONNREFUSED');
    for (let i = 0; i < 5; i++) failures.failed('handoff round', down, { peer: 'n3' });
    failures.report('row_quarantined', 'quarantined a row', { key: 'k' });
    nowMs = failureRepeatIntervalMs;
    failures.failed('handoff round', down, { peer: 'n3' });
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message, l.fields['failure'], l.fields['heldBack']]),
      [
        ['warn', 'handoff round failed', 'peer_unreachable', undefined],
        ['error', 'quarantined a row', 'row_quarantined', undefined],
        ['warn', 'handoff round failed', 'peer_unreachable', 4],
      ],
    );
    assert.equal(log.lines[0]!.fields['err'], 'ECONNREFUSED', 'a condition logs its message, not a stack');
  });
});
