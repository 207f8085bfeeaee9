// The OpenAPI v3 documents in the protobuf form kube-apiserver also serves
// (application/com.github.proto-openapi.spec.v3.v1.0+protobuf, or the deprecated
// ...spec.v3@v1.0+protobuf): gnostic's openapi.v3.Document (github.com/google/gnostic-models
// openapiv3/OpenAPIv3.proto; field numbers below are that file's). As gnostic parses the JSON, an
// object with `$ref` is a Reference, maps are repeated Named* (name, value) pairs in document order,
// and vendor extensions (x-...) are NamedAny whose Any.yaml holds the value as YAML (JSON) text.
import { ProtobufWriter } from './protobuf-writer.js';

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(w: ProtobufWriter, field: number, v: unknown): void {
  if (typeof v === 'string' && v !== '') w.string(field, v);
}
function optBool(w: ProtobufWriter, field: number, v: unknown): void {
  if (v === true) w.bool(field, true);
}
function strings(w: ProtobufWriter, field: number, v: unknown): void {
  if (Array.isArray(v)) for (const s of v) w.string(field, typeof s === 'string' ? s : '');
}
function extensions(w: ProtobufWriter, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (name.startsWith('x-')) w.message(field, (n) => n.string(1, name).message(2, (any) => any.string(2, `${JSON.stringify(value)}\n`)));
  }
}
/** A map as repeated Named* pairs (name 1, value 2) inside one message at `field`. */
function named(w: ProtobufWriter, field: number, entry: number, map: unknown, write: (w: ProtobufWriter, v: Json) => void): void {
  if (!isMap(map)) return;
  w.message(field, (m) => {
    for (const [name, v] of Object.entries(map)) if (isMap(v)) m.message(entry, (n) => n.string(1, name).message(2, (x) => write(x, v)));
  });
}

/** openapi.v3.SchemaOrReference: a Reference (2) when the object has $ref, else a Schema (1). */
function schemaOrReference(w: ProtobufWriter, s: Json): void {
  if (typeof s['$ref'] === 'string') {
    w.message(2, (r) => { optString(r, 1, s['$ref']); optString(r, 3, s['description']); });
    return;
  }
  w.message(1, (x) => writeSchema(x, s));
}

/** openapi.v3.Schema */
export function writeSchema(w: ProtobufWriter, s: Json): void {
  optBool(w, 20, s['uniqueItems']);
  strings(w, 23, s['required']);
  optString(w, 25, s['type']);
  if (Array.isArray(s['allOf'])) for (const sub of s['allOf']) if (isMap(sub)) w.message(26, (x) => schemaOrReference(x, sub));
  const items = s['items'];
  if (isMap(items)) w.message(30, (i) => i.message(1, (x) => schemaOrReference(x, items)));
  named(w, 31, 1, s['properties'], schemaOrReference);
  const ap = s['additionalProperties'];
  if (isMap(ap)) w.message(32, (a) => a.message(1, (x) => schemaOrReference(x, ap)));
  else if (typeof ap === 'boolean') w.message(32, (a) => a.bool(2, ap));
  optString(w, 34, s['description']);
  optString(w, 35, s['format']);
  extensions(w, 36, s);
}

/** openapi.v3.MediaTypes: content type -> MediaType{schema}. */
const mediaTypes = (w: ProtobufWriter, field: number, content: unknown) =>
  named(w, field, 1, content, (m, mt) => { if (isMap(mt['schema'])) m.message(1, (x) => schemaOrReference(x, mt['schema'] as Json)); });

/** openapi.v3.ParameterOrReference */
function parameter(w: ProtobufWriter, p: Json): void {
  w.message(1, (x) => {
    optString(x, 1, p['name']);
    optString(x, 2, p['in']);
    optString(x, 3, p['description']);
    optBool(x, 4, p['required']);
    if (isMap(p['schema'])) x.message(10, (s) => schemaOrReference(s, p['schema'] as Json));
    extensions(x, 14, p);
  });
}

function operation(w: ProtobufWriter, op: Json): void {
  strings(w, 1, op['tags']);
  optString(w, 3, op['description']);
  optString(w, 5, op['operationId']);
  if (Array.isArray(op['parameters'])) for (const p of op['parameters']) if (isMap(p)) w.message(6, (x) => parameter(x, p));
  const body = op['requestBody'];
  if (isMap(body)) w.message(7, (b) => b.message(1, (x) => { optString(x, 1, body['description']); mediaTypes(x, 2, body['content']); optBool(x, 3, body['required']); }));
  named(w, 8, 2, op['responses'], (r, resp) => r.message(1, (x) => { optString(x, 1, resp['description']); mediaTypes(x, 3, resp['content']); }));
  extensions(w, 13, op);
}

const OPERATION_FIELDS: Record<string, number> = { get: 4, put: 5, post: 6, delete: 7, options: 8, head: 9, patch: 10 };

function pathItem(w: ProtobufWriter, item: Json): void {
  for (const [method, field] of Object.entries(OPERATION_FIELDS)) {
    const op = item[method];
    if (isMap(op)) w.message(field, (x) => operation(x, op));
  }
  if (Array.isArray(item['parameters'])) for (const p of item['parameters']) if (isMap(p)) w.message(13, (x) => parameter(x, p));
  extensions(w, 14, item);
}

/** openapi.v3.Document from the JSON document. */
export function encodeOpenApiV3(doc: Json): Uint8Array {
  const w = new ProtobufWriter();
  optString(w, 1, doc['openapi']);
  const info = doc['info'];
  if (isMap(info)) w.message(2, (i) => { optString(i, 1, info['title']); optString(i, 2, info['description']); optString(i, 6, info['version']); });
  named(w, 4, 1, doc['paths'], pathItem);
  const components = doc['components'];
  if (isMap(components)) {
    w.message(5, (c) => {
      named(c, 1, 1, components['schemas'], schemaOrReference);
      named(c, 7, 1, components['securitySchemes'], (s, def) => s.message(1, (x) => {
        optString(x, 1, def['type']);
        optString(x, 2, def['description']);
        optString(x, 3, def['name']);
        optString(x, 4, def['in']);
        optString(x, 5, def['scheme']);
      }));
    });
  }
  if (Array.isArray(doc['security'])) {
    for (const req of doc['security']) {
      if (isMap(req)) w.message(6, (r) => { for (const [name, scopes] of Object.entries(req)) r.message(1, (n) => n.string(1, name).message(2, (a) => strings(a, 1, scopes))); });
    }
  }
  extensions(w, 9, doc);
  return w.finish();
}
