// The simulator's storage passes the same conformance suite as the memory and SQLite engines, so
// what the simulator proves holds for the engines nodes really run. The world's clock is pumped on
// real timers while the suite runs (commits are simulated events). A reopen or a crash is a new
// process's view over the same disk, as the simulated cluster restarts a node.
import { MemoryStorage } from '../../src/storage/memory.js';
import { storageConformance } from '../../test/storage/conformance.js';
import { SimStorage } from './sim-storage.js';
import { World } from './world.js';

storageConformance('SimStorage', async () => {
  const world = new World(1);
  const owner = { gen: 0, state: 'up' as const, deferred: [] };
  const disk = new MemoryStorage({ incarnation: 'sim-1' });
  const start = () => new SimStorage(world, owner, disk, { commitDelayMs: () => 1, ackBeforeCommit: false });
  const storage = start();
  let stopped = false;
  const pumped = (async () => {
    while (!stopped) {
      await world.run(world.now + 1);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  return {
    storage,
    reopen: async () => start(),
    crash: async () => {
      storage.crash();
      return start();
    },
    changeRunsAtCommit: true,
    cleanup: async () => {
      stopped = true;
      await pumped;
    },
  };
});
