// kvorum's TypeScript client (`import { KvorumClient } from 'kvorum/client'`): typed get, put,
// delete, update (read-modify-write with sibling resolution), listing and batches over global
// fetch, failing over between nodes. See the README, "Using the TypeScript client".
export { KvorumClient } from './client.js';
export {
  ForbiddenError, KvorumError, OutcomeUnknownError, OverloadedError, PreconditionFailedError, QuorumUnavailableError, TooManySiblingsError, UnauthorizedError, UnreachableError,
  errorFromAnswer,
} from './errors.js';
export type { ClientErrorCode, KvorumErrorCode, NodeFailure, ServerErrorCode } from './errors.js';
export { UnresolvedSiblingsError } from './update.js';
export type { Change } from './update.js';
export type * from './types.js';
export type * as wire from './wire.js';
