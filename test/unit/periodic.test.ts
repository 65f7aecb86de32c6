// Background rounds: a failed round is logged in one place at the level of its failure class
// (a peer's trouble is an operating condition: warn; anything else is a bug: error), and the
// task keeps running on its interval.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Periodic } from '../../src/core/periodic.js';
import { TransportError, type Logger } from '../../src/core/ports.js';
import { asNodeId } from '../../src/core/types.js';
import { SimTime } from './fakes.js';

function recordingLog(): Logger & { lines: Array<[level: string, message: string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push([level, message]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('periodic', () => {
  it('logs a failed round by class and keeps running', async () => {
    const time = new SimTime();
    const log = recordingLog();
    const failures = [new TransportError(asNodeId('n2'), 'unreachable', 'n2: ECONNREFUSED'), new TypeError('undefined is not a function')];
    let rounds = 0;
    const periodic = new Periodic({
      name: 'test round',
      runtime: time.runtime,
      log,
      intervalMs: 100,
      task: async () => {
        const failure = failures[rounds++];
        if (failure) throw failure;
      },
    });
    periodic.start();
    await time.advance(350);
    periodic.stop();
    assert.equal(rounds, 3, 'two failed rounds did not stop the third');
    assert.deepEqual(log.lines, [
      ['warn', 'test round failed'],
      ['error', 'test round failed (a bug)'],
    ]);
    await time.advance(500);
    assert.equal(rounds, 3, 'nothing runs once stopped');
  });
});
