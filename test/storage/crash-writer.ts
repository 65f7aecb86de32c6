// Child process of crash.test.ts: writes k0, k1, … with 32 updates in flight until killed, each
// followed by a meta record of the same name, and prints `ack <key>` only after both have resolved,
// i.e. once storage calls them durable.
import type { ActorId } from '../../src/core/types.js';
import { asPartitionId } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: crash-writer <dir>');

// Never outlive a parent that failed to kill us.
setTimeout(() => process.exit(3), 120_000).unref();
process.stdout.on('error', () => process.exit(4)); // EPIPE: the parent is gone

const storage = SqliteStorage.open({ dir });
const writer = 'writer.0' as ActorId;
const encoder = new TextEncoder();
const inFlight = 32;
let next = 0;

async function writeForever(): Promise<void> {
  for (;;) {
    const i = next++;
    const key = `k${i}`;
    // Must match the check in crash.test.ts.
    const data = encoder.encode(`value of ${key}`);
    await storage.update(key, asPartitionId(i % 64), () => ({
      context: { vv: [[writer, i + 1]], cloud: [] },
      siblings: [{ dot: [writer, i + 1], value: { kind: 'value', data, contentType: 'text/plain' } }],
    }));
    await storage.putMeta(key, data);
    process.stdout.write(`ack ${key}\n`);
  }
}

for (let w = 0; w < inFlight; w++) void writeForever().catch((err) => {
  console.error(err);
  process.exit(1);
});
