// Decoding a request object as the real API server does: every field type-checked against the kind's
// schema (422 with field causes), then unknown and duplicate fields handled as the fieldValidation
// query parameter says: Strict -> 400 naming each, Warn (the default) -> one `Warning: 299` header per
// field (kubectl prints them), Ignore -> dropped silently. Unknown fields are never stored.
import type { Context } from 'hono';
import { BadRequestError, ValidationError } from '../../api/errors.js';
import { checkFieldTypes } from '../resources/schema/check-field-types.js';
import { schemaOfKind } from '../resources/schema/object-schemas.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
const modes: FieldValidation[] = ['Strict', 'Warn', 'Ignore'];

export function fieldValidationOf(c: Context): FieldValidation {
  const raw = c.req.query('fieldValidation');
  if (raw === undefined || raw === '') return 'Warn';
  const mode = modes.find((m) => m.toLowerCase() === raw.toLowerCase());
  if (!mode) throw new BadRequestError(`fieldValidation parameter must be one of ${modes.join(', ')}: got ${JSON.stringify(raw)}`);
  return mode;
}

export interface DecodedKind {
  apiVersion: string;
  kind: string;
  group?: string;
}

/**
 * Checks and prunes `obj` (in place) as `target`'s schema says; `duplicateFields` come from the JSON
 * body (json-body.ts). Throws ValidationError for type errors, BadRequestError for Strict findings.
 */
export function decodeFields(c: Context, target: DecodedKind, obj: unknown, duplicateFields: readonly string[] = [], options: { warn?: boolean } = {}): void {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new BadRequestError('the request body must be a JSON object');
  const schema = schemaOfKind(target.apiVersion, target.kind);
  if (!schema) return;
  const mode = fieldValidationOf(c);
  const check = checkFieldTypes(schema, obj, { prune: true });
  if (check.causes.length > 0) {
    const name = (obj as { metadata?: { name?: unknown } }).metadata?.name;
    throw new ValidationError({ group: target.group || undefined, kind: target.kind, name: typeof name === 'string' ? name : undefined }, check.causes);
  }
  const findings = [...check.unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`), ...duplicateFields.map((f) => `duplicate field ${JSON.stringify(f)}`)];
  if (findings.length === 0 || mode === 'Ignore') return;
  if (mode === 'Strict') {
    const version = target.apiVersion.slice(target.apiVersion.indexOf('/') + 1);
    throw new BadRequestError(`${target.kind} in version ${JSON.stringify(version)} cannot be handled as a ${target.kind}: strict decoding error: ${findings.join(', ')}`);
  }
  if (options.warn === false) return; // a retry of a request that already warned
  for (const finding of findings) c.header('Warning', `299 - ${asciiQuoted(finding)}`, { append: true });
}

/**
 * A header value must be ASCII (fetch Headers throw on anything else, which was a 500): the finding is
 * JSON-quoted (control characters escaped) and every non-ASCII code unit escaped as \uXXXX too.
 */
export const asciiQuoted = (text: string): string =>
  JSON.stringify(text).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
