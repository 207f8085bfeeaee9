// Decodes an MQTT payload against a message schema, the one way both sides of the node channel do:
// invalid JSON or a schema mismatch becomes a reason to log and drop, never an exception.
import * as v from 'valibot';

export type DecodedPayload<T> = { ok: true; value: T } | { ok: false; reason: string };

export function decodePayload<S extends v.GenericSchema>(schema: S, payload: Buffer): DecodedPayload<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid JSON' };
  }
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return { ok: true, value: parsed.output };
  return { ok: false, reason: `schema: ${describeIssues(parsed.issues)}` };
}

/**
 * What went wrong first and where, e.g. `Invalid length: Expected >=1 but received 0 at pods.1.name`,
 * and how many other issues there are. When no option of a union fits, it also names the first
 * option's own first issue, with its path from the union.
 */
export function describeIssues(issues: readonly [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): string {
  const [first] = issues;
  const at = (issue: v.BaseIssue<unknown>) => {
    const path = v.getDotPath(issue);
    return path ? ` at ${path}` : '';
  };
  const inner = first.issues?.[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${first.message}${at(first)}${inner ? ` (first option: ${inner.message}${at(inner)})` : ''}${more}`;
}
