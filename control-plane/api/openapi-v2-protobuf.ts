// The OpenAPI v2 document in the protobuf form kubectl and client-go ask for
// (application/com.github.proto-openapi.spec.v2@v1.0+protobuf): gnostic's openapi.v2.Document message
// (github.com/google/gnostic openapiv2/OpenAPIv2.proto; field numbers below are that file's).
// Maps are repeated Named* (name, value) pairs in document order; vendor extensions (x-...) are
// NamedAny whose Any.yaml holds the value as YAML text (JSON is YAML, which is what client-go parses).
import { ProtobufWriter } from './protobuf-writer.js';

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function vendorExtensions(w: ProtobufWriter, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (!name.startsWith('x-')) continue;
    w.message(field, (n) => n.string(1, name).message(2, (any) => any.string(2, `${JSON.stringify(value)}\n`)));
  }
}

function optString(w: ProtobufWriter, field: number, v: unknown): void {
  if (typeof v === 'string' && v !== '') w.string(field, v);
}
function optBool(w: ProtobufWriter, field: number, v: unknown): void {
  if (v === true) w.bool(field, true);
}
function strings(w: ProtobufWriter, field: number, v: unknown): void {
  if (Array.isArray(v)) for (const s of v) w.string(field, str(s));
}

/** openapi.v2.Schema */
export function writeSchema(w: ProtobufWriter, s: Json): void {
  optString(w, 1, s['$ref']);
  optString(w, 2, s['format']);
  optString(w, 3, s['title']);
  optString(w, 4, s['description']);
  optBool(w, 16, s['uniqueItems']);
  strings(w, 19, s['required']);
  const ap = s['additionalProperties'];
  if (isMap(ap)) w.message(21, (a) => a.message(1, (x) => writeSchema(x, ap)));
  else if (typeof ap === 'boolean') w.message(21, (a) => a.bool(2, ap));
  if (typeof s['type'] === 'string') w.message(22, (t) => t.string(1, s['type'] as string));
  const items = s['items'];
  if (isMap(items)) w.message(23, (i) => i.message(1, (x) => writeSchema(x, items)));
  if (Array.isArray(s['allOf'])) for (const sub of s['allOf']) if (isMap(sub)) w.message(24, (x) => writeSchema(x, sub));
  const props = s['properties'];
  if (isMap(props)) {
    w.message(25, (p) => {
      for (const [name, sub] of Object.entries(props)) if (isMap(sub)) p.message(1, (n) => n.string(1, name).message(2, (x) => writeSchema(x, sub)));
    });
  }
  vendorExtensions(w, 31, s);
}

/** openapi.v2.ParametersItem: a body parameter, or a query or path parameter (NonBodyParameter). */
function writeParameter(w: ProtobufWriter, p: Json): void {
  w.message(1, (param) => {
    if (p['in'] === 'body') {
      param.message(1, (b) => {
        optString(b, 1, p['description']);
        optString(b, 2, p['name']);
        optString(b, 3, p['in']);
        optBool(b, 4, p['required']);
        if (isMap(p['schema'])) b.message(5, (x) => writeSchema(x, p['schema'] as Json));
        vendorExtensions(b, 6, p);
      });
      return;
    }
    const path = p['in'] === 'path';
    // QueryParameterSubSchema (3) has allow_empty_value at 5, so its later fields sit one number higher
    const shift = path ? 0 : 1;
    param.message(2, (nb) => nb.message(path ? 4 : 3, (q) => {
      optBool(q, 1, p['required']);
      optString(q, 2, p['in']);
      optString(q, 3, p['description']);
      optString(q, 4, p['name']);
      optString(q, 5 + shift, p['type']);
      optString(q, 6 + shift, p['format']);
      optBool(q, 19 + shift, p['uniqueItems']);
      vendorExtensions(q, 22 + shift, p);
    }));
  });
}

function writeOperation(w: ProtobufWriter, op: Json): void {
  strings(w, 1, op['tags']);
  optString(w, 3, op['description']);
  optString(w, 5, op['operationId']);
  strings(w, 6, op['produces']);
  strings(w, 7, op['consumes']);
  if (Array.isArray(op['parameters'])) for (const p of op['parameters']) if (isMap(p)) w.message(8, (x) => writeParameter(x, p));
  const responses = op['responses'];
  if (isMap(responses)) {
    w.message(9, (r) => {
      for (const [code, resp] of Object.entries(responses)) {
        if (!isMap(resp)) continue;
        r.message(1, (n) => n.string(1, code).message(2, (rv) => rv.message(1, (x) => {
          optString(x, 1, resp['description']);
          if (isMap(resp['schema'])) x.message(2, (si) => si.message(1, (s) => writeSchema(s, resp['schema'] as Json)));
        })));
      }
    });
  }
  strings(w, 10, op['schemes']);
  vendorExtensions(w, 13, op);
}

const OPERATION_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function writePathItem(w: ProtobufWriter, item: Json): void {
  for (const [method, field] of Object.entries(OPERATION_FIELDS)) {
    const op = item[method];
    if (isMap(op)) w.message(field, (x) => writeOperation(x, op));
  }
  if (Array.isArray(item['parameters'])) for (const p of item['parameters']) if (isMap(p)) w.message(9, (x) => writeParameter(x, p));
  vendorExtensions(w, 10, item);
}

/** openapi.v2.Document from the JSON document. */
export function encodeOpenApiV2(doc: Json): Uint8Array {
  const w = new ProtobufWriter();
  optString(w, 1, doc['swagger']);
  const info = doc['info'];
  if (isMap(info)) w.message(2, (i) => { optString(i, 1, info['title']); optString(i, 2, info['version']); });
  const paths = doc['paths'];
  if (isMap(paths)) {
    w.message(8, (p) => {
      for (const [name, item] of Object.entries(paths)) if (isMap(item)) p.message(2, (n) => n.string(1, name).message(2, (x) => writePathItem(x, item)));
    });
  }
  const defs = doc['definitions'];
  if (isMap(defs)) {
    w.message(9, (d) => {
      for (const [name, s] of Object.entries(defs)) if (isMap(s)) d.message(1, (n) => n.string(1, name).message(2, (x) => writeSchema(x, s)));
    });
  }
  if (Array.isArray(doc['security'])) {
    for (const req of doc['security']) {
      if (!isMap(req)) continue;
      w.message(12, (r) => {
        for (const [name, scopes] of Object.entries(req)) r.message(1, (n) => n.string(1, name).message(2, (a) => strings(a, 1, scopes)));
      });
    }
  }
  const sec = doc['securityDefinitions'];
  if (isMap(sec)) {
    w.message(13, (s) => {
      for (const [name, def] of Object.entries(sec)) {
        if (!isMap(def) || def['type'] !== 'apiKey') continue;
        s.message(1, (n) => n.string(1, name).message(2, (item) => item.message(2, (k) => {
          optString(k, 1, def['type']);
          optString(k, 2, def['name']);
          optString(k, 3, def['in']);
          optString(k, 4, def['description']);
        })));
      }
    });
  }
  vendorExtensions(w, 16, doc);
  return w.finish();
}
