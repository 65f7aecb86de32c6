// The client's wire types (src/client/wire.ts) against the types generated from the OpenAPI document
// (src/client/openapi-types.ts, from docs/openapi.json, itself checked against the served document):
// the checks are types, so `npm run lint` (and so `npm test`) fails to compile when either drifts.
// The runtime test only confirms the module compiled with every check true.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/core/errors.js';
import type { components, operations } from '../../src/client/openapi-types.js';
import type { BatchRequestBody, BatchResponseBody, ErrorBody, ListPage, SiblingsBody, WireBatchOp, WireBatchResult } from '../../src/client/wire.js';

type Mutable<T> = T extends readonly (infer U)[] ? Mutable<U>[] : T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
/** True only when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Extends<A, B> = [A] extends [B] ? true : false;
type KeysOfUnion<T> = T extends unknown ? keyof T : never;

type Json<Op extends keyof operations, Status extends number> = operations[Op]['responses'] extends Record<Status, { content: { 'application/json': infer B } }> ? B : never;
type SpecBatchBody = operations['batch']['requestBody']['content']['application/json'];
type SpecBatchOp = SpecBatchBody['ops'][number];
type SpecBatchResult = Json<'batch', 200>['results'][number];

const checks = {
  listPage: true satisfies Same<Mutable<ListPage>, Json<'listKeys', 200>>,
  siblings: true satisfies Same<Mutable<SiblingsBody>, Json<'getKey', 300>>,
  putSiblings: true satisfies Same<Mutable<SiblingsBody>, Json<'putKey', 300>>,
  errorCodes: true satisfies Same<components['schemas']['Error']['error'], ErrorCode>,
  errorBody: true satisfies Extends<components['schemas']['Error'], ErrorBody>,
  batchOpsFit: true satisfies Extends<Mutable<WireBatchOp>, SpecBatchOp>,
  batchOpFields: true satisfies Same<KeysOfUnion<WireBatchOp>, keyof SpecBatchOp>,
  batchBody: true satisfies Extends<Mutable<BatchRequestBody>, SpecBatchBody>,
  batchResultFits: true satisfies Extends<Mutable<WireBatchResult>, SpecBatchResult>,
  batchResultFields: true satisfies Same<keyof WireBatchResult, keyof SpecBatchResult>,
  batchResponse: true satisfies Extends<Mutable<BatchResponseBody>, Json<'batch', 200>>,
};

describe('client wire types', () => {
  it('match the OpenAPI document (checked when this file compiles)', () => {
    assert.ok(Object.values(checks).every((ok) => ok === true));
  });
});
