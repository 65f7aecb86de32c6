// The bench baseline: a fastify 5 server with the same HTTP surface as kvorum's client API and no
// work behind it. PUT /kv/* -> 204, GET /kv/* -> 200 with a 1 KiB body. Prints `{"port":N}` on
// stdout once listening; SIGINT/SIGTERM close it.
//   node --import tsx test/bench/noop-server.ts [--port 0] [--host 127.0.0.1]
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'value-bytes': { type: 'string', default: '1024' },
  },
});

const body = Buffer.alloc(Number(values['value-bytes']), 0x61);
const app = Fastify({ logger: false });

// Like kvorum: values are opaque bytes of any content type, parsed as one raw buffer.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, buf, done) => done(null, buf));

app.put('/kv/*', async (_request, reply) => reply.status(204).send());
app.get('/kv/*', async (_request, reply) => reply.status(200).header('content-type', 'application/octet-stream').send(body));

await app.listen({ host: values.host, port: Number(values.port) });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error(`noop-server: unexpected address ${String(address)}`);
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
