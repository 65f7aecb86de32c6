// Answers for what never reaches a route, on a bare Node server with short timeouts: a request
// whose headers do not arrive in time gets a catalogued 408 (the real node waits 60 s), and a
// malformed request after a slow one waits for the slow one's answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionErrors } from '../../src/api/connection-errors.js';
import { RawConnection } from '../kit/raw-http.js';
import { waitFor } from '../kit/wait.js';

describe('connection errors', () => {
  let server: Server;
  let port: number;
  let releaseSlow: (() => void) | undefined;

  before(async () => {
    const errors = new ConnectionErrors('t1');
    server = createServer({ headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 }, (req, res) => {
      const answer = () => res.writeHead(204, { 'x-kvorum-node': 't1' }).end();
      if (req.url === '/slow') releaseSlow = answer;
      else answer();
    });
    errors.install(server);
    server.on('clientError', errors.onClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('headers that do not arrive in time get 408 request_timeout, in the catalog shape', async () => {
    const conn = await RawConnection.open(port);
    try {
      conn.write('GET /x HTTP/1.1\r\nHost: x\r\n'); // never finished
      const res = await conn.readResponse(5000);
      assert.ok(res !== 'closed', 'an answer before the connection closes');
      assert.equal(res.status, 408);
      assert.equal(res.headers['x-kvorum-node'], 't1');
      assert.equal(JSON.parse(res.body.toString()).error, 'request_timeout');
    } finally {
      conn.destroy();
    }
  });

  it('an error after a complete request waits for that request to be answered first', async () => {
    const conn = await RawConnection.open(port);
    try {
      conn.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n');
      await waitFor(() => releaseSlow !== undefined, { timeoutMs: 5000, intervalMs: 10, what: 'the slow request to arrive' });
      releaseSlow!();
      const first = await conn.readResponse(5000);
      const second = await conn.readResponse(5000);
      assert.ok(first !== 'closed' && second !== 'closed');
      assert.deepEqual([first.status, second.status], [204, 400]);
      assert.equal(JSON.parse(second.body.toString()).error, 'bad_request');
    } finally {
      conn.destroy();
    }
  });
});
