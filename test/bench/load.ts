// The load generator, run as its own process by http-bench.ts so it never shares an event loop with
// the harness or the servers. One phase per run: PUT or GET of kvorum's API (the no-op server has
// the same) or etcd's JSON gateway; closed loop (autocannon: peak throughput, load-closed.ts) or,
// with `rate`, open loop at a fixed offered load (latency, load-paced.ts). Every PUT uses a distinct
// key; a GET the next key of the list of written keys. Prints one line `LOAD_RESULT {json}`.
//   node --import tsx test/bench/load.ts '<LoadSpec as JSON>'
import { writeFileSync } from 'node:fs';
import { resultMarker, startMarker, type LoadSpec } from './common.js';
import { runClosedLoop } from './load-closed.js';
import { keySource, summarize } from './load-outcome.js';
import { runPaced } from './load-paced.js';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
if (spec.urls.length === 0 || spec.connections < spec.urls.length) throw new Error('load: need at least one connection per URL');

const keys = keySource(spec);
process.stdout.write(`${startMarker}\n`);
const cpuBefore = process.cpuUsage();
const outcome = spec.rate === undefined ? await runClosedLoop(spec, keys) : await runPaced(spec, keys);
const cpu = process.cpuUsage(cpuBefore);

if (spec.method === 'PUT' && spec.keysOut !== undefined) writeFileSync(spec.keysOut, outcome.written.join('\n') + '\n');
const result = summarize(outcome, (cpu.user + cpu.system) / 1e6, spec.method);
process.stdout.write(`${resultMarker}${JSON.stringify(result)}\n`);
