// The fuzzer's secure cluster (issue 15): nodes with TLS, mutual TLS between them and an auth file,
// made the way an operator makes them (test/kit/certs.ts runs openssl; tokens as `kvorum token
// create` makes them). The fuzzer then speaks TLS, presenting a certificate the CA signed (so its
// internal RPC cases still reach the RPC code), and puts tokens on client and admin requests
// (gen-auth.ts), an admin token on its own checks.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { writeAuthFile } from '../../src/auth/token-file.js';
import { createToken } from '../../src/auth/tokens.js';
import { issueCert, makeCa, tlsArgs } from '../kit/certs.js';
import { forgetTempDir, registerTempDir } from '../kit/proc.js';
import type { FuzzTokens } from './gen-auth.js';

export interface FuzzSecurity {
  /** `kvorum start` flags of every node. */
  readonly args: readonly string[];
  readonly ca: Buffer;
  /** The fuzzer's raw TLS connections. */
  readonly tls: ConnectionOptions;
  /** The fuzzer's own requests through fetch (canaries, health). */
  readonly dispatcher: Dispatcher;
  readonly tokens: FuzzTokens;
  /** What the fuzzer's own requests carry. */
  readonly authorization: string;
  /** Closes the dispatcher and removes the certificates and the auth file. */
  dispose(): Promise<void>;
}

export function makeFuzzSecurity(): FuzzSecurity {
  const dir = mkdtempSync(join(tmpdir(), 'kvorum-fuzz-tls-'));
  registerTempDir(dir);
  const ca = makeCa(dir, 'fuzz-ca');
  const cert = issueCert(ca, 'node');
  const now = Date.now();
  const admin = createToken({ role: 'admin' }, now);
  const read = createToken({ role: 'read' }, now);
  const revoked = createToken({ role: 'admin' }, now); // never in the file: what a revoked token looks like
  const expired = createToken({ role: 'admin', expiresAtMs: now - 1000 }, now - 60_000);
  const authFile = join(dir, 'auth.json');
  writeAuthFile(authFile, { version: 1, tokens: [admin.entry, read.entry, expired.entry] });
  const caPem = readFileSync(ca.certFile);
  const client = { ca: caPem, cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) };
  const dispatcher = new Agent({ connect: client });
  return {
    args: [...tlsArgs(cert, ca, true), '--auth-file', authFile],
    ca: caPem,
    tls: client,
    dispatcher,
    tokens: { admin: admin.token, read: read.token, revoked: revoked.token, expired: expired.token },
    authorization: `Bearer ${admin.token}`,
    async dispose() {
      await dispatcher.close();
      rmSync(dir, { recursive: true, force: true });
      forgetTempDir(dir);
    },
  };
}

/** What the fuzzer's own fetch requests need: the admin token and the CA (nothing for a plain cluster). */
export function ownRequestOptions(security: FuzzSecurity | undefined): { headers?: Record<string, string>; dispatcher?: Dispatcher } {
  return security ? { headers: { authorization: security.authorization }, dispatcher: security.dispatcher } : {};
}
