// A harness for watchdog.test.ts: starts one child with the kit's Proc (an idle node process whose
// command line carries the temp dir given as argv[2]), registers that dir with the watchdog,
// prints the child's pid, then idles until the test SIGKILLs it (no cleanup of its own runs).
import { Proc, registerTempDir } from './proc.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: watchdog-fixture.ts <temp dir>');
registerTempDir(dir);
const child = new Proc('idle', ['-e', 'setInterval(() => {}, 1000)', dir]);
console.log(JSON.stringify({ childPid: child.pid }));
setInterval(() => {}, 1000);
