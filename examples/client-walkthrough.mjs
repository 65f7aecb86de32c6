// The README's "Using the TypeScript client" script, run against a cluster by
// test/integration/client.test.ts (which also checks that the README shows the code below this
// comment). Run it with `node examples/client-walkthrough.mjs` while `npm start` runs.
import { KvorumClient } from 'kvorum/client';

const kv = new KvorumClient({ nodes: (process.env.KVORUM_NODES ?? 'http://127.0.0.1:7001,http://127.0.0.1:7002').split(',') });
await kv.put('greeting', 'hello');
console.log((await kv.get('greeting')).value.toString()); // hello
await kv.put('colour', 'red');
await kv.put('colour', 'blue'); // no context: both versions survive, as siblings
const resolve = (siblings) => siblings.map((s) => s.value.toString()).sort().join('+');
console.log((await kv.update('colour', (current) => current, { resolve })).value.toString()); // blue+red
for await (const key of kv.keys({ prefix: 'col' })) console.log(key); // colour
await kv.put('session', 'token', { ttl: 1 }); // gone one second later
while ((await kv.get('session')) !== null) await new Promise((wake) => setTimeout(wake, 200));
console.log('session expired');
