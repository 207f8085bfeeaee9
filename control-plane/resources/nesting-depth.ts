// How deeply objects may nest. Every recursive piece of the control plane (structuredClone, the patch
// appliers, stable stringify, schema checks) is safe far beyond this cap; a hostile body nested
// thousands deep is refused with 400 before any of them sees it. Kubernetes objects need ~20 levels.
import { BadRequestError } from '../../api/errors.js';

export const MAX_NESTING_DEPTH = 100;

/** The nesting depth of a value (a scalar is 0, `{}` and `[]` are 1), counted without recursion; stops past `limit`. */
export function nestingDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: here });
    }
  }
  return deepest;
}

export class NestingTooDeepError extends BadRequestError {
  constructor(what: string, max = MAX_NESTING_DEPTH) {
    super(`${what} is nested more than ${max} levels deep`);
  }
}

export function assertNestingDepth(value: unknown, what: string, max = MAX_NESTING_DEPTH): void {
  if (nestingDepth(value, max) > max) throw new NestingTooDeepError(what, max);
}
