// Decodes an MQTT payload against a message schema, the one way both sides of the node channel do:
// invalid JSON or a schema mismatch becomes a reason to log and drop, never an exception.
import type { z } from 'zod';

export type DecodedPayload<T> = { ok: true; value: T } | { ok: false; reason: string };

export function decodePayload<S extends z.ZodType>(schema: S, payload: Buffer): DecodedPayload<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `schema: ${issue?.message ?? 'invalid'} at ${issue?.path.join('.') ?? ''}` };
}
