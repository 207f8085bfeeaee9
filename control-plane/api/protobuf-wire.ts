// Protobuf wire format reading and a small schema-driven decoder into Kubernetes JSON shapes:
// go-to-protobuf writes non-pointer scalars even when zero, so zero values of non-pointer fields are dropped
// (as JSON's omitempty would) while pointer fields (e.g. replicas) keep an explicit 0.
import { BadRequestError } from '../../api/errors.js';

export type Field = { number: number; wire: number; value: bigint | Uint8Array };

export function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new BadRequestError('truncated protobuf varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const number = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) yield { number, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new BadRequestError('truncated protobuf field');
      yield { number, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new BadRequestError(`unsupported protobuf wire type ${wire}`);
  }
}

export const text = (v: bigint | Uint8Array) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
export const bytes = (v: bigint | Uint8Array) => (v instanceof Uint8Array ? v : new Uint8Array());
const int = (v: bigint | Uint8Array) => (typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0);

/**
 * How one field decodes. string/int/bool drop zero values; `ptrInt`/`ptrBool` keep them. `map`: map<string,string>;
 * `bytesMap`: map<string,bytes> as base64; `quantityMap`: map<string,Quantity>; `intOrString`: IntOrString.
 */
export type FieldKind = 'string' | 'int' | 'ptrInt' | 'bool' | 'ptrBool' | 'map' | 'bytesMap' | 'quantityMap' | 'intOrString' | 'time' | Schema;

export interface FieldSpec { name: string; kind: FieldKind; repeated?: boolean }
export type Schema = { [number: number]: FieldSpec };

function mapEntry(buf: Uint8Array): [string, Uint8Array | bigint] {
  let key = '';
  let value: Uint8Array | bigint = new Uint8Array();
  for (const f of fields(buf)) {
    if (f.number === 1) key = text(f.value);
    if (f.number === 2) value = f.value;
  }
  return [key, value];
}

function decodeValue(kind: FieldKind, value: bigint | Uint8Array): { set: boolean; value?: unknown } {
  switch (kind) {
    case 'string': { const s = text(value); return { set: s !== '', value: s }; }
    case 'int': { const n = int(value); return { set: n !== 0, value: n }; }
    case 'ptrInt': return { set: true, value: int(value) };
    case 'bool': return { set: int(value) !== 0, value: true };
    case 'ptrBool': return { set: true, value: int(value) !== 0 };
    case 'intOrString': {
      let type = 0; let intVal = 0; let strVal = '';
      for (const f of fields(bytes(value))) {
        if (f.number === 1) type = int(f.value);
        if (f.number === 2) intVal = int(f.value);
        if (f.number === 3) strVal = text(f.value);
      }
      return { set: true, value: type === 1 ? strVal : intVal };
    }
    case 'time': {
      let seconds = 0;
      for (const f of fields(bytes(value))) if (f.number === 1) seconds = int(f.value);
      return { set: seconds !== 0, value: new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    }
    case 'map': case 'bytesMap': case 'quantityMap':
      return { set: true }; // handled by the caller: entries accumulate into one object
    default: return { set: true, value: decodeMessage(bytes(value), kind) };
  }
}

export function decodeMessage(buf: Uint8Array, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const spec = schema[f.number];
    if (!spec) continue;
    if (spec.kind === 'map' || spec.kind === 'bytesMap' || spec.kind === 'quantityMap') {
      const [k, v] = mapEntry(bytes(f.value));
      const map = (out[spec.name] ??= {}) as Record<string, string>;
      if (spec.kind === 'map') map[k] = text(v);
      else if (spec.kind === 'bytesMap') map[k] = Buffer.from(bytes(v)).toString('base64');
      else map[k] = text([...fields(bytes(v))].find((q) => q.number === 1)?.value ?? new Uint8Array());
      continue;
    }
    const decoded = decodeValue(spec.kind, f.value);
    if (spec.repeated) ((out[spec.name] ??= []) as unknown[]).push(decoded.value ?? text(f.value));
    else if (decoded.set) out[spec.name] = decoded.value;
  }
  return out;
}
