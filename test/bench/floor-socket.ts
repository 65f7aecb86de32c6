// The floor bench's peer-message phase, one process per side over one TCP connection on 127.0.0.1.
// The server answers every request frame (1 KiB payload) with a 16-byte one carrying the request's
// sequence number; the client keeps `--outstanding` requests in flight (1: ping-pong), optionally
// waiting `--gap-ms` after each answer before sending the next (an idle process woken per
// message). Both sides send the frames of one event-loop turn with one socket.write.
//   node --import tsx test/bench/floor-socket.ts --role server --port P     (prints {"port":P} once listening)
//   node --import tsx test/bench/floor-socket.ts --role client --port P --outstanding K [--gap-ms G] --seconds S [--warmup S]
// The client prints FLOOR_START, idles quietBeforeMs, runs its measured part and prints
// `FLOOR_RESULT {SocketResult}` once it has ended (every answer in), then exits.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { valueFor } from './common.js';
import { answerPayloadBytes, floorResultMarker, floorStartMarker, quietBeforeMs, requestPayloadBytes, type SocketResult } from './floor-common.js';
import { buildFrame, CoalescingSender, FrameReader } from './floor-frames.js';

const host = '127.0.0.1';
/** The client gives up (exit 1) this long after its planned end. */
const overrunMs = 30_000;

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    port: { type: 'string', default: '0' },
    outstanding: { type: 'string', default: '1' },
    'gap-ms': { type: 'string', default: '0' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
  },
});

function serve(port: number): void {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const sender = new CoalescingSender(socket);
    const reader = new FrameReader((payload) => sender.send(buildFrame(payload.readUInt32BE(0), answerPayloadBytes)), requestPayloadBytes);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => socket.destroy());
  });
  server.listen({ host, port, exclusive: true }, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error(`floor-socket: unexpected address ${String(address)}`);
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
}

interface Driver {
  /** Runs for `seconds`, then lets the requests in flight come back; resolves with the exchanges done. */
  run(seconds: number): Promise<number>;
  readonly sender: CoalescingSender;
}

/** The client's loop over `socket`: `outstanding` requests in flight, `gapMs` of idleness before each new one after an answer. */
function driver(socket: Socket, outstanding: number, gapMs: number): Driver {
  const sender = new CoalescingSender(socket);
  const fill = valueFor('floor-peer-message', requestPayloadBytes);
  let seq = 0;
  let onAnswer = (): void => {};
  const reader = new FrameReader(() => onAnswer(), answerPayloadBytes);
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  const run = (seconds: number): Promise<number> =>
    new Promise((resolve) => {
      const stopAt = performance.now() + seconds * 1000;
      let inFlight = 0;
      let timers = 0;
      let done = 0;
      const sendOne = (): void => {
        inFlight++;
        sender.send(buildFrame(seq++, requestPayloadBytes, fill));
      };
      const afterGap = (): void => {
        timers--;
        sendOne();
      };
      onAnswer = () => {
        inFlight--;
        done++;
        if (performance.now() >= stopAt) {
          if (inFlight === 0 && timers === 0) resolve(done);
        } else if (gapMs > 0) {
          timers++;
          setTimeout(afterGap, gapMs);
        } else sendOne();
      };
      for (let i = 0; i < outstanding; i++) sendOne();
    });
  return { run, sender };
}

async function client(port: number, outstanding: number, gapMs: number, seconds: number, warmup: number): Promise<void> {
  setTimeout(() => {
    console.error(`floor-socket client: not done ${overrunMs} ms after its planned end`);
    process.exit(1);
  }, (warmup + seconds) * 1000 + overrunMs).unref();
  const socket = connect({ host, port });
  socket.on('close', () => {
    console.error('floor-socket client: connection closed by the server');
    process.exit(1);
  });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const d = driver(socket, outstanding, gapMs);
  if (warmup > 0) await d.run(warmup);
  process.stdout.write(`${floorStartMarker}\n`);
  await new Promise((resolve) => setTimeout(resolve, quietBeforeMs));
  const writesBefore = d.sender.writes;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const exchanges = await d.run(seconds);
  const cpu = process.cpuUsage(cpuBefore);
  const result: SocketResult = { exchanges, wallMs: performance.now() - started, writes: d.sender.writes - writesBefore, cpuUs: cpu.user + cpu.system };
  process.stdout.write(`${floorResultMarker}${JSON.stringify(result)}\n`);
  process.exit(0);
}

const port = Number(values.port);
if (values.role === 'server') serve(port);
else if (values.role === 'client') {
  await client(port, Number(values.outstanding), Number(values['gap-ms']), Number(values.seconds), Number(values.warmup));
} else throw new Error(`floor-socket: --role server or client, got ${String(values.role)}`);
