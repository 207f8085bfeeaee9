// deepFreeze and jsonCopy: objects shared by many readers (a cache's, a decoded store value) made
// read-only throughout, and a reader's own copy of one.

/**
 * Freezes `value` and everything reachable from it (objects from JSON: plain objects and arrays), so a
 * reader that changes a shared object fails loudly (TypeError in strict mode) instead of changing what
 * every other reader sees. A frozen object is taken as frozen throughout: the walk stops there.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
    return value;
  }
  for (const key in value) deepFreeze(value[key]);
  return value;
}

/**
 * A deep copy of a JSON value (plain objects, arrays, strings, numbers, booleans, null), unfrozen:
 * a reader's own copy of a shared object. Several times cheaper than parsing the JSON text again or
 * structuredClone, and it keeps the key order.
 */
export function jsonCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = jsonCopy(value[i]);
    return copy as T;
  }
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype instead
    if (key === '__proto__') Object.defineProperty(copy, key, { value: jsonCopy(value[key]), enumerable: true, writable: true, configurable: true });
    else copy[key] = jsonCopy(value[key]);
  }
  return copy as T;
}
