// Cheap invariant checks in the core (TigerBeetle style): a failed one is a bug in kvorum, never a
// client's or a peer's fault, so it throws InvariantError (failure `invariant_violated`) with a
// message that says what broke. The message is built only on failure.
import { InvariantError } from './errors.js';

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantError(message());
}
