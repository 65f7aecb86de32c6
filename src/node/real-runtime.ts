// The Runtime port backed by the real clock, timers and Math.random (the simulator has its own).
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../core/ports.js';

export const realRuntime: Runtime = {
  now: () => performance.now(),
  setTimer(delayMs, fire) {
    const handle = setTimeout(fire, delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
  random: () => Math.random(),
  wallClockMs: () => Date.now(),
};
