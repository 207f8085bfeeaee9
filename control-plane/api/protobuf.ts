// Just enough protobuf to read what kubectl POSTs as application/vnd.kubernetes.protobuf:
// the `k8s\0` envelope, runtime.Unknown, and a Namespace (ObjectMeta name, labels, annotations, finalizers).
import { UnsupportedMediaTypeError, BadRequestError } from '../../api/errors.js';
import type { KubeObject, ObjectMeta } from '../../api/types/meta.js';

type Field = { number: number; wire: number; value: bigint | Uint8Array };

function* fields(buf: Uint8Array): Generator<Field> {
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

const text = (v: bigint | Uint8Array) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
const bytes = (v: bigint | Uint8Array) => (v instanceof Uint8Array ? v : new Uint8Array());

function decodeTypeMeta(buf: Uint8Array): { apiVersion: string; kind: string } {
  const out = { apiVersion: '', kind: '' };
  for (const f of fields(buf)) {
    if (f.number === 1) out.apiVersion = text(f.value);
    if (f.number === 2) out.kind = text(f.value);
  }
  return out;
}

function decodeMapEntry(buf: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  for (const f of fields(buf)) {
    if (f.number === 1) key = text(f.value);
    if (f.number === 2) value = text(f.value);
  }
  return [key, value];
}

function decodeObjectMeta(buf: Uint8Array): ObjectMeta {
  const meta: ObjectMeta = {};
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1: meta.name = text(f.value); break;
      case 2: meta.generateName = text(f.value); break;
      case 3: meta.namespace = text(f.value); break;
      case 11: { const [k, v] = decodeMapEntry(bytes(f.value)); (meta.labels ??= {})[k] = v; break; }
      case 12: { const [k, v] = decodeMapEntry(bytes(f.value)); (meta.annotations ??= {})[k] = v; break; }
      case 14: (meta.finalizers ??= []).push(text(f.value)); break;
    }
  }
  for (const k of ['name', 'generateName', 'namespace'] as const) if (meta[k] === '') delete meta[k];
  return meta;
}

function decodeNamespace(raw: Uint8Array): KubeObject {
  const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: {} };
  for (const f of fields(raw)) {
    if (f.number === 1) ns.metadata = decodeObjectMeta(bytes(f.value));
    if (f.number === 2) {
      const finalizers = [...fields(bytes(f.value))].filter((s) => s.number === 1).map((s) => text(s.value));
      if (finalizers.length) ns['spec'] = { finalizers };
    }
  }
  return ns;
}

const decoders: Record<string, (raw: Uint8Array) => KubeObject> = { 'v1/Namespace': decodeNamespace };

/** Decodes a protobuf request body; kinds without a decoder are a 415 telling the client to send JSON. */
export function decodeProtobufObject(body: Uint8Array): KubeObject {
  const magic = [0x6b, 0x38, 0x73, 0x00];
  if (body.length < 4 || magic.some((b, i) => body[i] !== b)) throw new BadRequestError('protobuf body lacks the k8s\\0 envelope');
  let typeMeta = { apiVersion: '', kind: '' };
  let raw: Uint8Array = new Uint8Array();
  for (const f of fields(body.subarray(4))) {
    if (f.number === 1) typeMeta = decodeTypeMeta(bytes(f.value));
    if (f.number === 2) raw = bytes(f.value);
  }
  const decode = decoders[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!decode) {
    throw new UnsupportedMediaTypeError(`the protobuf encoding of ${typeMeta.apiVersion}/${typeMeta.kind} is not supported by skiff; send application/json (e.g. kubectl create -f <file>)`);
  }
  return decode(raw);
}
