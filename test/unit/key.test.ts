// Keys: one percent-encoded path segment, 1..512 bytes of valid UTF-8, `+` is a literal plus.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromUrl } from '../../src/api/key.js';
import { KvError } from '../../src/core/errors.js';

const isInvalidKey = (e: unknown) => e instanceof KvError && e.code === 'invalid_key';

describe('key parsing', () => {
  it('decodes percent-encoding and keeps + literal', () => {
    assert.equal(keyFromUrl('/kv/a+b'), 'a+b');
    assert.equal(keyFromUrl('/kv/a%2Bb'), 'a+b');
    assert.equal(keyFromUrl('/kv/caf%C3%A9%20%E2%82%AC?r=1'), 'café €');
    assert.equal(keyFromUrl('/kv/a%2Fb'), 'a/b');
    assert.equal(keyFromUrl(`/kv/${'x'.repeat(512)}`), 'x'.repeat(512));
    assert.equal(keyFromUrl(`/kv/${'%C3%A9'.repeat(256)}`), 'é'.repeat(256), '512 bytes, 256 characters');
  });

  it('refuses empty, too long, multi-segment, bad encoding and invalid UTF-8', () => {
    for (const url of ['/kv/', '/kv/?r=1', `/kv/${'x'.repeat(513)}`, `/kv/${'%C3%A9'.repeat(256)}x`, '/kv/a/b', '/kv/%', '/kv/%zz', '/kv/%FF', '/kv/%E2%82', '/kv/%ED%A0%80', '/kv/é']) {
      assert.throws(() => keyFromUrl(url), isInvalidKey, url);
    }
  });
});
