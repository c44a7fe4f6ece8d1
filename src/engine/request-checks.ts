// The engine API's requests are checked by their schemas (src/schema/request.ts) before any work:
// a page, a share link or another script can send anything through the worker boundary. Tensors
// given to the engine's entry points are checked here too: a NaN would run for minutes, then
// make a black picture.

import type * as v from 'valibot';
import { check, describeProblems } from '../schema/validate';
import { invalidInput } from './errors';

/**
 * `input` as `schema`'s validated output, or an 'invalid-input' EngineError whose message names
 * each wrong field by its path (`frames[2].width: must be a multiple of 16, got 40`). `what` names
 * the request in the action sentence ("the story").
 */
export function checkedRequest<S extends v.GenericSchema<unknown, unknown>>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = check(schema, input);
  if (result.ok) return result.value;
  const fields = [...new Set(result.problems.map((problem) => problem.path).filter(Boolean))];
  const where = fields.length ? ` (${fields.slice(0, 3).join(', ')}${fields.length > 3 ? ', …' : ''})` : '';
  throw invalidInput(describeProblems(result.problems), `Correct the named field${fields.length > 1 ? 's' : ''}${where} of ${what} and try again.`);
}

/**
 * Refuses a tensor of fewer than `minLength` values or holding NaN or infinity, naming it by
 * `what` (`IN.safetensors: tensor "noise"`), before it reaches the GPU.
 */
export function checkFiniteValues(what: string, values: ArrayLike<number>, minLength = 1): void {
  if (values.length < minLength) {
    throw invalidInput(`${what} holds ${values.length} value${values.length === 1 ? '' : 's'}; at least ${minLength} are needed.`, 'Give a complete tensor.');
  }
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    bad++;
    if (first < 0) first = i;
  }
  if (bad > 0) throw invalidInput(`${what} holds ${bad} non-finite value${bad > 1 ? 's' : ''} (NaN or infinity), the first at index ${first}.`, 'Give finite values only.');
}
