// Building blocks of the node channel's payload schemas (messages.ts): bounded strings, counts, and
// JSON objects that keep every key.
import * as v from 'valibot';

/** A string of `min`..`max` characters (UTF-16 code units, as `String.length`). */
export const text = (min: number, max: number) => v.pipe(v.string(), v.minLength(min), v.maxLength(max));
/** A safe integer >= 0. */
export const count = () => v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** Keys `v.record` skips (it guards against prototype pollution) but JSON may validly carry. */
const GUARDED_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/**
 * A JSON object (never an array: `v.record` alone would take `["x"]` as `{ "0": "x" }`) with string
 * keys and `value` values. Every key is kept, as an own data property: `v.record` drops
 * `__proto__`, `constructor` and `prototype`, which are valid ConfigMap keys and volume or image
 * names, so those are parsed on their own and put back without touching any prototype.
 */
export const jsonRecord = <T extends v.GenericSchema>(value: T) => {
  const record = v.record(v.string(), value);
  return v.pipe(
    v.custom<Record<string, unknown>>(
      (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
      (issue) => `Invalid type: Expected Object but received ${issue.received}`,
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const input = dataset.value;
      const parsed = v.safeParse(record, input);
      const guarded = GUARDED_KEYS.filter((key) => Object.hasOwn(input, key))
        .map((key) => [key, v.safeParse(value, input[key])] as const);
      const issues = [
        ...(parsed.issues ?? []),
        ...guarded.flatMap(([key, result]) => (result.issues ?? []).map((issue) => ({
          ...issue, path: [{ type: 'object', origin: 'value', input, key, value: input[key] }, ...(issue.path ?? [])],
        }))),
      ];
      if (issues.length) {
        // the whole issue (nested `issues` of unions included) as the record schema reported it
        for (const issue of issues) addIssue(issue as Parameters<typeof addIssue>[0]);
        return NEVER;
      }
      const output = parsed.output as Record<string, v.InferOutput<T>>;
      for (const [key, result] of guarded) {
        Object.defineProperty(output, key, { value: result.output, enumerable: true, writable: true, configurable: true });
      }
      return output;
    }),
  );
};
