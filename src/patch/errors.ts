/**
 * The error every refused or failed patch operation throws: a bad patch definition, an
 * unknown table / function / data item, an `init` or `apply` hook that threw, an undo
 * refused because a later patch depends on the patch, a table name registered twice.
 * The message says what and why; when a patch was applied and then failed at once (its
 * transformer threw before any invocation could see it), `patch` is its final snapshot.
 *
 * Entry points: `PatchError`.
 */
import type { PatchInfo } from './types.js';

export class PatchError extends Error {
  override name = 'PatchError';
  constructor(message: string, readonly patch: PatchInfo | null = null) {
    super(message);
  }
}
