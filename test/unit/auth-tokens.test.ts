// The auth file and tokens (src/auth/): hashing and checking, the file's validation, atomic writes,
// expiry, durations; and that every route the app registers has an authorization rule.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ruleOf } from '../../src/api/auth-rules.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { ConfigError } from '../../src/node/config.js';
import { AuthFileError, parseAuthFile, readAuthFile, writeAuthFile, type AuthFile } from '../../src/auth/token-file.js';
import { createToken, hashSecret, parseDurationSeconds, parseToken, TokenTable } from '../../src/auth/tokens.js';
import { appRoutes } from '../kit/app-routes.js';

const nowMs = Date.parse('2026-01-01T00:00:00Z');
const fileOf = (...entries: AuthFile['tokens']): AuthFile => ({ version: 1, tokens: entries });

/** The token with one character of its secret changed: a different secret, still a canonical spelling. */
function oneSecretCharOff(token: string): string {
  const i = token.length - 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

describe('tokens', () => {
  it('a new token is kvt_<id>_<secret>; the entry holds its salted HMAC, never the secret', () => {
    const { token, entry } = createToken({ role: 'write', prefix: 'a/' }, nowMs);
    const parsed = parseToken(token)!;
    assert.equal(parsed.id, entry.id);
    assert.equal(parsed.secret.length, 32, '256 random bits');
    assert.ok(!JSON.stringify(entry).includes(token.slice(21)), 'the secret is not stored');
    assert.deepEqual(Buffer.from(entry.hash, 'base64'), hashSecret(Buffer.from(entry.salt, 'base64'), parsed.secret));
    assert.notEqual(createToken({ role: 'write' }, nowMs).entry.salt, entry.salt, 'a salt per token');
    assert.equal(entry.createdAt, '2026-01-01T00:00:00.000Z');
  });

  it('verify: the right secret passes; one changed character, an unknown id, malformed text do not', () => {
    const { token, entry } = createToken({ role: 'read', prefix: 'p' }, nowMs);
    const table = new TokenTable(fileOf(entry));
    assert.deepEqual(table.verify(token, nowMs), { ok: true, grant: { id: entry.id, role: 'read', prefix: 'p' } });
    assert.deepEqual(table.verify(oneSecretCharOff(token), nowMs), { ok: false, why: 'unknown' }, 'same length, one character off');
    const other = createToken({ role: 'read' }, nowMs).token;
    assert.deepEqual(table.verify(other, nowMs), { ok: false, why: 'unknown' });
    const last4 = 'AEIMQUYcgkosw048'.indexOf(token.at(-1)!); // the characters whose 2 unused bits are 0
    assert.ok(last4 >= 0, 'a canonical token ends in a character with its unused bits 0');
    const aliased = token.slice(0, -1) + String.fromCharCode(token.charCodeAt(token.length - 1) + 1);
    assert.deepEqual(table.verify(aliased, nowMs), { ok: false, why: 'malformed' }, 'a non-canonical spelling of the same secret');
    for (const bad of ['', 'kvt_', token.slice(0, -1), `${token}A`, token.replace('kvt_', 'kvx_'), 'x'.repeat(70_000), token.toUpperCase()]) {
      assert.equal(table.verify(bad, nowMs).ok, false, JSON.stringify(bad.slice(0, 40)));
    }
  });

  it('verify: an expired token is refused as expired, only once its secret matched', () => {
    const { token, entry } = createToken({ role: 'admin', expiresAtMs: nowMs + 1000 }, nowMs);
    const table = new TokenTable(fileOf(entry));
    assert.equal(table.verify(token, nowMs + 999).ok, true);
    assert.deepEqual(table.verify(token, nowMs + 1000), { ok: false, why: 'expired', expiredAt: '2026-01-01T00:00:01.000Z' });
    const wrong = oneSecretCharOff(token);
    assert.deepEqual(table.verify(wrong, nowMs + 5000), { ok: false, why: 'unknown' }, 'a wrong secret learns nothing about expiry');
  });

  it('both paths refuse a wrong secret: the HMAC before the token was first verified, the remembered secret after', () => {
    const { token, entry } = createToken({ role: 'read' }, nowMs);
    const table = new TokenTable(fileOf(entry));
    const wrong = oneSecretCharOff(token);
    assert.equal(table.verify(wrong, nowMs).ok, false, 'HMAC path');
    assert.equal(table.verify(token, nowMs).ok, true);
    assert.equal(table.verify(wrong, nowMs).ok, false, 'remembered-secret path');
    assert.equal(table.verify(token, nowMs).ok, true);
    assert.equal(new TokenTable(fileOf(entry)).verify(wrong, nowMs).ok, false, 'a reloaded table starts from the HMAC again');
  });

  it('the digests compared are always 32 bytes (timingSafeEqual never sees unequal lengths)', () => {
    for (const secret of [Buffer.alloc(0), Buffer.alloc(32, 1), Buffer.alloc(1000, 2)]) assert.equal(hashSecret(Buffer.alloc(16), secret).length, 32);
  });

  it('--expires-in durations: N, Ns, Nm, Nh, Nd', () => {
    assert.deepEqual(['90', '90s', '2m', '12h', '30d'].map(parseDurationSeconds), [90, 90, 120, 43_200, 2_592_000]);
    for (const bad of ['', 'd', '1w', '-1', '1.5h', '30 d', '12345678901']) assert.equal(parseDurationSeconds(bad), undefined, bad);
  });
});

describe('the auth file', () => {
  const good = () => fileOf(createToken({ role: 'read', prefix: 'x' }, nowMs).entry, createToken({ role: 'admin', note: 'ops' }, nowMs).entry);

  it('parses what writeAuthFile wrote; written atomically with mode 0600, no temp file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-authfile-'));
    try {
      const path = join(dir, 'auth.json');
      const file = good();
      writeAuthFile(path, file);
      assert.deepEqual(readAuthFile(path), file);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      writeAuthFile(path, fileOf());
      assert.deepEqual(readAuthFile(path), fileOf());
      assert.deepEqual(readdirSync(dir), ['auth.json']);
      assert.deepEqual(readAuthFile(join(dir, 'missing.json'), true), fileOf());
      assert.throws(() => readAuthFile(join(dir, 'missing.json')), AuthFileError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses malformed files with a message naming the problem', () => {
    const entry = good().tokens[0]!;
    const cases: [string, RegExp][] = [
      ['not json', /is not JSON/],
      ['[]', /not a valid auth file/],
      ['{"version": 2, "tokens": []}', /at version/],
      ['{"version": 1}', /at tokens/],
      ['{"version": 1, "tokens": [], "extra": 1}', /not a valid auth file/],
      [JSON.stringify(fileOf({ ...entry, role: 'root' as 'read' })), /at tokens\.0\.role/],
      [JSON.stringify(fileOf({ ...entry, id: 'ABC' })), /at tokens\.0\.id/],
      [JSON.stringify(fileOf({ ...entry, hash: 'c2hvcnQ=' })), /tokens\.0\.hash.*32-byte/],
      [JSON.stringify(fileOf({ ...entry, createdAt: 'yesterday' })), /tokens\.0\.createdAt/],
      [JSON.stringify(fileOf({ ...entry, role: 'admin' })), /admin token cannot have a prefix/],
      [JSON.stringify(fileOf(entry, entry)), /ids must be unique/],
      [JSON.stringify(fileOf({ ...entry, secret: 'x' } as typeof entry)), /not a valid auth file/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseAuthFile(text, 'f.json'), (err) => err instanceof AuthFileError && message.test(err.message), text.slice(0, 80));
  });

  it('a file over the size limit is refused before it is read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-authfile-'));
    try {
      const path = join(dir, 'big.json');
      writeFileSync(path, ' '.repeat(8 * 1024 * 1024 + 1));
      assert.throws(() => readAuthFile(path), /over/);
      assert.equal(readFileSync(path).length, 8 * 1024 * 1024 + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AuthStore (the node\'s view of its file)', () => {
  it('a bad file at start is a ConfigError; a bad file on reload is refused and the last good tokens stay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-authstore-'));
    const log = pino({ level: 'silent' });
    try {
      const path = join(dir, 'auth.json');
      writeFileSync(path, '{"version": 1, "tokens": "none"}');
      assert.throws(() => AuthStore.open(path, log), (err) => err instanceof ConfigError && /at tokens/.test(err.message));
      assert.throws(() => AuthStore.open(join(dir, 'missing.json'), log), ConfigError);
      const first = createToken({ role: 'read' }, nowMs);
      writeAuthFile(path, fileOf(first.entry));
      const store = AuthStore.open(path, log);
      assert.equal(store.tokens.verify(first.token, nowMs).ok, true);
      writeFileSync(path, 'garbage');
      assert.equal(store.reload(), false);
      assert.equal(store.tokens.verify(first.token, nowMs).ok, true, 'the last good tokens stay in force');
      const second = createToken({ role: 'write' }, nowMs);
      writeAuthFile(path, fileOf(second.entry));
      assert.equal(store.reload(), true);
      assert.deepEqual([store.tokens.verify(first.token, nowMs).ok, store.tokens.verify(second.token, nowMs).ok], [false, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('authorization rules', () => {
  it('every route the app registers has a rule', async () => {
    const routes = await appRoutes();
    assert.ok(routes.length > 40);
    for (const { method, url } of routes) assert.ok(ruleOf(method, url) !== undefined, `${method} ${url}`);
  });

  it('a route added without a rule makes the app fail to start', async () => {
    await assert.rejects(appRoutes((app) => app.get('/new-route', async () => 'x')), /GET \/new-route has no authorization rule/);
  });
});
