// Type-checks a decoded object against its kind's schema before anything else looks at it: every
// field has the JSON type its schema says, integers fit int32/int64, maps hold the right values.
// Also finds the fields the schema does not know (fieldValidation) and, when asked, drops them and
// nulls the way decoding into Kubernetes' Go types would. Errors are worded like the real server's
// schema errors: `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
import { ValidationError, type StatusCause } from '../../../api/errors.js';
import { resolveSchema, schemaOfKind, type SchemaNode } from './object-schemas.js';

export interface FieldCheck {
  /** Type and range errors (422 causes). */
  causes: StatusCause[];
  /** Paths of fields the schema does not have, e.g. `spec.containers[0].imagePullPolcy`. */
  unknownFields: string[];
}

export interface FieldCheckOptions {
  /** Drop unknown fields and null-valued fields, turn null list items into zero values (what decoding does). */
  prune?: boolean;
  /** Stop collecting after this many causes or unknown fields (hostile bodies stay cheap). Default 50. */
  maxReports?: number;
}

interface IntRange { min: number; max: number; minText: string; maxText: string }
const INT32: IntRange = { min: -(2 ** 31), max: 2 ** 31 - 1, minText: '-2147483648', maxText: '2147483647' };
/** int64 as the real server bounds it; beyond ±2^53 a JS number cannot hold the value exactly. */
const INT64: IntRange = { min: -(2 ** 63), max: 2 ** 63, minText: '-9223372036854775808', maxText: '9223372036854775807' };

export function checkFieldTypes(schema: SchemaNode, value: unknown, options: FieldCheckOptions = {}): FieldCheck {
  const result: FieldCheck = { causes: [], unknownFields: [] };
  const walker = new Walker(result, options.prune ?? false, options.maxReports ?? 50);
  walker.value(schema, value, '');
  return result;
}

/** Throws ValidationError (422) when a field of `obj` has the wrong type for its kind (no pruning). */
export function assertFieldTypes(type: { group: string; apiVersion: string; kind: string }, obj: { metadata?: { name?: unknown } }): void {
  const schema = schemaOfKind(type.apiVersion, type.kind);
  if (!schema) return;
  const { causes } = checkFieldTypes(schema, obj);
  if (causes.length === 0) return;
  const name = obj.metadata?.name;
  throw new ValidationError({ group: type.group || undefined, kind: type.kind, name: typeof name === 'string' ? name : undefined }, causes);
}

/** The JSON type of a value as schema errors name it. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Walker {
  constructor(private readonly result: FieldCheck, private readonly prune: boolean, private readonly maxReports: number) {}

  value(node: SchemaNode, v: unknown, path: string): void {
    if (v === null || v === undefined) return; // decoding leaves the zero value
    const s = resolveSchema(node);
    if (s['x-kubernetes-preserve-unknown-fields']) return;
    if (s['x-kubernetes-int-or-string']) return this.intOrString(s, v, path);
    switch (s.type) {
      case 'object': return s.properties ? this.object(s, v, path) : this.map(s, v, path);
      case 'array': return this.array(s, v, path);
      case 'string': return this.string(s, v, path);
      case 'integer': return this.integer(s.format === 'int32' ? INT32 : INT64, v, path);
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) this.typeError(path, v, 'number');
        return;
      case 'boolean':
        if (typeof v !== 'boolean') this.typeError(path, v, 'boolean');
        return;
      default: return undefined;
    }
  }

  private object(s: SchemaNode, v: unknown, path: string): void {
    if (!isPlainObject(v)) return this.typeError(path, v, 'object');
    const properties = s.properties ?? {};
    for (const key of Object.keys(v)) {
      const field = join(path, key);
      const child = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      if (!child) {
        this.report(this.result.unknownFields, field);
        if (this.prune) delete v[key];
        continue;
      }
      if (v[key] === null && this.prune) {
        delete v[key];
        continue;
      }
      this.value(child, v[key], field);
    }
  }

  private map(s: SchemaNode, v: unknown, path: string): void {
    if (!isPlainObject(v)) return this.typeError(path, v, 'object');
    const values = s.additionalProperties;
    if (!values) return;
    for (const key of Object.keys(v)) {
      if (v[key] === null && this.prune) {
        delete v[key];
        continue;
      }
      this.value(values, v[key], `${path}[${key}]`);
    }
  }

  private array(s: SchemaNode, v: unknown, path: string): void {
    if (!Array.isArray(v)) return this.typeError(path, v, 'array');
    const items = s.items;
    if (!items) return;
    v.forEach((item, i) => {
      if (item === null && this.prune) v[i] = zeroValue(items);
      else this.value(items, item, `${path}[${i}]`);
    });
  }

  private string(s: SchemaNode, v: unknown, path: string): void {
    if (s.format === 'quantity') {
      if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return;
      return this.typeError(path, v, 'string,number');
    }
    if (typeof v !== 'string') return this.typeError(path, v, 'string');
    if (s.format === 'date-time' && !isDateTime(v)) {
      this.cause({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: ${path} in body must be of type date-time: ${JSON.stringify(v)}` });
    }
  }

  private intOrString(s: SchemaNode, v: unknown, path: string): void {
    if (s.format === 'quantity') return this.string(s, v, path);
    if (typeof v === 'string') return;
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.typeError(path, v, 'integer,string');
    this.integer(INT32, v, path);
  }

  private integer(range: IntRange, v: unknown, path: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.typeError(path, v, 'integer');
    // (as a double, 2^63-1 rounds to 2^63: INT64.max is 2^63 and the comparison is strict)
    const outside = range === INT64 ? v >= range.max || v < range.min : v > range.max || v < range.min;
    if (outside) {
      const [word, bound] = v > 0 ? ['less', range.maxText] : ['greater', range.minText];
      this.cause({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: ${v}: ${path} in body should be ${word} than or equal to ${bound}` });
    } else if (!Number.isSafeInteger(v)) {
      this.cause({ field: path, reason: 'FieldValueInvalid',
        message: `Invalid value: ${v}: ${path} in body must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}: skiff keeps integers as IEEE doubles and would change this one` });
    }
  }

  private typeError(path: string, v: unknown, expected: string): void {
    const actual = jsonTypeOf(v);
    this.cause({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${actual}": ${path || 'body'} in body must be of type ${expected}: "${actual}"` });
  }

  private cause(c: StatusCause): void {
    this.report(this.result.causes, c);
  }

  private report<T>(list: T[], item: T): void {
    if (list.length < this.maxReports) list.push(item);
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** What Go's decoder leaves for a null list item. */
function zeroValue(node: SchemaNode): unknown {
  const s = resolveSchema(node);
  if (s['x-kubernetes-preserve-unknown-fields']) return null;
  if (s['x-kubernetes-int-or-string']) return s.format === 'quantity' ? '0' : 0;
  switch (s.type) {
    case 'object': return {};
    case 'array': return [];
    case 'string': return '';
    case 'integer': case 'number': return 0;
    case 'boolean': return false;
    default: return null;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const isDateTime = (v: string) => RFC3339.test(v) && !Number.isNaN(Date.parse(v));
