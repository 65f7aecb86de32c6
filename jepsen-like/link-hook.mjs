// Harness only: jepsen-like/cluster.ts starts every kvorum node with `node --import` this file. It
// sends the node's connections to other nodes through the fault-injecting link proxies.
//
// Why not simply give each node proxy URLs in --peers, as before membership? The ring now carries
// one URL per member and gossips it, so every node must know every member by the same URL (the one
// it listens on; a joining node registers that one itself). Different --peers per node make
// different first rings, which gossip refuses to merge. So every node advertises its real URL, and
// this hook, inside node A, rewrites a connection to node B's port into one to the proxy A->B.
//
// The map (target port -> proxy port) is a JSON file whose path is in KVORUM_JEPSEN_LINKS; the
// harness rewrites it (write + rename) when nodes join, and the hook rereads it when it changes.
// Nothing in src/ knows about it.
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';

const file = process.env.KVORUM_JEPSEN_LINKS;
let cached = { key: '', ports: new Map() };

/** The current map, reread when the file was replaced or changed; the last good one on error. */
function links() {
  if (!file) return cached.ports;
  try {
    const s = statSync(file, { bigint: true });
    const key = `${s.ino}:${s.mtimeNs}:${s.size}`;
    if (key !== cached.key) {
      const parsed = JSON.parse(readFileSync(file, 'utf8'));
      cached = { key, ports: new Map(Object.entries(parsed).map(([from, to]) => [Number(from), Number(to)])) };
    }
  } catch {
    // keep the last map: the harness replaces the file atomically, so this is only a vanished file
  }
  return cached.ports;
}

const local = (host) => host === undefined || host === '127.0.0.1' || host === 'localhost';

/** connect()'s arguments with a node's port replaced by its link proxy's. */
function rewrite(args) {
  const [first, second] = args;
  if (first !== null && typeof first === 'object' && !Array.isArray(first) && local(first.host)) {
    const to = links().get(Number(first.port));
    return to === undefined ? args : [{ ...first, port: to }, ...args.slice(1)];
  }
  if ((typeof first === 'number' || typeof first === 'string') && /^[0-9]+$/.test(String(first)) && (typeof second !== 'string' || local(second))) {
    const to = links().get(Number(first));
    return to === undefined ? args : [to, ...args.slice(1)];
  }
  return args;
}

const connect = net.connect;
// undici (kvorum's HTTP client) calls net.connect through the module object, so this reaches it.
net.connect = net.createConnection = function linkedConnect(...args) {
  return connect.apply(this, rewrite(args));
};
