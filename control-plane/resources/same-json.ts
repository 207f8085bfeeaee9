// Whether two values serialise to the same JSON up to object key order: what
// `stableStringify(a) === stableStringify(b)` answers, without building either string. Updates ask it
// for every write (is this a no-op? did the spec change? did an immutable pod field change?), so it
// walks both values once and stops at the first difference.

/** How JSON.stringify treats a value inside an object: undefined, functions and symbols are left out. */
const isOmitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return sameAsText(a, b);
  if (hasToJSON(a) || hasToJSON(b)) return sameAsText(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      // inside an array an omitted value is written as null
      const x = isOmitted(a[i]) ? null : a[i];
      const y = isOmitted(b[i]) ? null : b[i];
      if (!sameJson(x, y)) return false;
    }
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let count = 0;
  for (const key of Object.keys(ra)) {
    const v = ra[key];
    if (isOmitted(v)) continue;
    count++;
    if (!Object.prototype.hasOwnProperty.call(rb, key) || isOmitted(rb[key]) || !sameJson(v, rb[key])) return false;
  }
  for (const key of Object.keys(rb)) if (!isOmitted(rb[key])) count--;
  return count === 0;
}

const hasToJSON = (v: object): boolean => typeof (v as { toJSON?: unknown }).toJSON === 'function';

/** The rare cases (non-finite numbers, toJSON, mixed kinds) by the text JSON.stringify gives. */
function sameAsText(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
