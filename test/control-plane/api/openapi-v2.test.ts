// /openapi/v2 as kube-openapi serves it: JSON or gnostic protobuf by Accept (406 otherwise), ETag =
// SHA-512 of the body, 304 on If-None-Match; v3 documents immutable under their hash and redirected
// from an old one. The protobuf writer and the gnostic encoder round-trip through a decoder written
// from OpenAPIv2.proto's field numbers (seeded fuzz), and hostile Accept headers never give a 5xx.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAccept } from '../../../control-plane/api/accept-header.js';
import { openApiV2Document } from '../../../control-plane/api/openapi-routes.js';
import { encodeOpenApiV2, writeSchema } from '../../../control-plane/api/openapi-v2-protobuf.js';
import { ProtobufWriter } from '../../../control-plane/api/protobuf-writer.js';
import { fields, text } from '../../../control-plane/api/protobuf-wire.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

type Json = Record<string, any>;
const PB = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const sub = (v: bigint | Uint8Array) => v as Uint8Array;

/** openapi.v2.Schema back to JSON (the subset the encoder writes). */
function decodeSchema(buf: Uint8Array): Json {
  const s: Json = {};
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1: s['$ref'] = text(f.value); break;
      case 2: s['format'] = text(f.value); break;
      case 4: s['description'] = text(f.value); break;
      case 16: s['uniqueItems'] = f.value === 1n; break;
      case 19: (s['required'] ??= []).push(text(f.value)); break;
      case 21: for (const a of fields(sub(f.value))) s['additionalProperties'] = a.number === 1 ? decodeSchema(sub(a.value)) : a.value === 1n; break;
      case 22: for (const t of fields(sub(f.value))) s['type'] = text(t.value); break;
      case 23: for (const i of fields(sub(f.value))) s['items'] = decodeSchema(sub(i.value)); break;
      case 24: (s['allOf'] ??= []).push(decodeSchema(sub(f.value))); break;
      case 25: s['properties'] = Object.fromEntries([...fields(sub(f.value))].map((p) => named(sub(p.value), decodeSchema))); break;
      case 31: { const [k, v] = named(sub(f.value), decodeAny); s[k] = v; break; }
      default: throw new Error(`unexpected Schema field ${f.number}`);
    }
  }
  return s;
}
function decodeAny(buf: Uint8Array): unknown {
  for (const f of fields(buf)) if (f.number === 2) return JSON.parse(text(f.value));
  return undefined;
}
function named<T>(buf: Uint8Array, value: (b: Uint8Array) => T): [string, T] {
  let name = '';
  let v: T | undefined;
  for (const f of fields(buf)) {
    if (f.number === 1) name = text(f.value);
    if (f.number === 2) v = value(sub(f.value));
  }
  return [name, v as T];
}

function randomSchema(next: () => number, depth: number): Json {
  const s: Json = {};
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  if (next() < 0.3) s['$ref'] = `#/definitions/${hostileString(next, 4)}`;
  if (next() < 0.5) s['description'] = hostileString(next, 20);
  if (next() < 0.3) s['format'] = pick(['int32', 'int64', 'date-time', 'byte', hostileString(next, 3)]);
  if (next() < 0.7) s['type'] = pick(['object', 'array', 'string', 'integer', 'boolean', 'number']);
  if (next() < 0.2) s['required'] = [hostileString(next, 3), hostileString(next, 3)];
  if (next() < 0.1) s['uniqueItems'] = true;
  if (depth > 0 && next() < 0.3) s['items'] = randomSchema(next, depth - 1);
  if (depth > 0 && next() < 0.2) s['additionalProperties'] = next() < 0.5 ? randomSchema(next, depth - 1) : true;
  if (depth > 0 && next() < 0.2) s['allOf'] = [randomSchema(next, depth - 1)];
  if (depth > 0 && next() < 0.4) s['properties'] = Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [hostileString(next, 4), randomSchema(next, depth - 1)]));
  if (next() < 0.3) s['x-kubernetes-list-map-keys'] = [hostileString(next, 3), 'protocol'];
  if (next() < 0.2) s['x-kubernetes-group-version-kind'] = [{ group: hostileString(next, 2), kind: 'K', version: 'v1' }];
  return s;
}

/** What the encoder keeps: empty strings are proto3 zero values and are left out. */
function withoutEmpty(s: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === '') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Json).map(([n, p]) => [n, withoutEmpty(p)]));
    else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = withoutEmpty(v);
    else if (k === 'allOf') out[k] = (v as Json[]).map(withoutEmpty);
    else out[k] = v;
  }
  return out;
}

describe('OpenAPI v2', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => api.close());

  it('fuzz: the gnostic Schema encoding round-trips (seeded)', () => {
    const next = seededRandom(2049);
    for (let i = 0; i < 1500; i++) {
      const schema = randomSchema(next, 3);
      const w = new ProtobufWriter();
      writeSchema(w, schema);
      expect(decodeSchema(w.finish()), `case ${i}`).toEqual(withoutEmpty(schema));
    }
  });

  it('the protobuf writer refuses what protobuf cannot carry', () => {
    expect(() => new ProtobufWriter().uint(0, 1)).toThrow(RangeError);
    expect(() => new ProtobufWriter().uint(1, -1)).toThrow(RangeError);
    expect(() => new ProtobufWriter().uint(1, 2 ** 60)).toThrow(RangeError);
    expect([...new ProtobufWriter().uint(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
  });

  it('serves every kind\'s definition with its extensions, all refs resolving, in JSON and protobuf', async () => {
    const json = await api.call('GET', '/openapi/v2', { accept: 'application/json' });
    expect(json.status).toBe(200);
    expect(json.headers.get('vary')).toBe('Accept, Accept-Encoding');
    const text = await json.text();
    expect(json.headers.get('etag')).toBe(`"${createHash('sha512').update(text).digest('hex').toUpperCase()}"`);
    const doc = JSON.parse(text) as Json;
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiV2Document())));
    for (const ref of text.match(/"#\/definitions\/[^"]+"/g) ?? []) expect(doc['definitions'], ref).toHaveProperty([ref.slice('"#/definitions/'.length, -1)]);
    const port = doc['definitions']['io.k8s.v1.Container']['properties']['ports'];
    expect(port).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'], 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-patch-strategy': 'merge' });
    expect(doc['definitions']['io.k8s.v1.LabelSelector']['x-kubernetes-map-type']).toBe('atomic');
    expect(doc['definitions']['io.k8s.v1.OwnerReference']['x-kubernetes-map-type']).toBe('atomic');
    expect(doc['definitions']['io.k8s.v1.PodSpec']['properties']['nodeSelector']['x-kubernetes-map-type']).toBe('atomic');
    expect(doc['definitions']['io.k8s.v1.PodSpec']['properties']['tolerations']['x-kubernetes-list-type']).toBe('atomic');
    expect(doc['paths']['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']['patch']['consumes']).toContain('application/strategic-merge-patch+json');

    const pb = await api.call('GET', '/openapi/v2', { accept: `${PB}, application/json` });
    expect(pb.status).toBe(200);
    expect(pb.headers.get('content-type')).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const bytes = new Uint8Array(await pb.arrayBuffer());
    expect(bytes).toEqual(encodeOpenApiV2(doc));
    const top = [...fields(bytes)];
    expect(text.length).toBeGreaterThan(0);
    expect(top.find((f) => f.number === 1)?.value).toEqual(new TextEncoder().encode('2.0'));
    const definitions = [...fields(sub(top.find((f) => f.number === 9)!.value))].map((d) => named(sub(d.value), decodeSchema));
    expect(Object.fromEntries(definitions)).toEqual(doc['definitions']);
  });

  it('caches as kube-openapi does: 304 on the ETag, 406 for what it cannot produce, v3 hashes immutable or redirected', async () => {
    const first = await api.call('GET', '/openapi/v2', { accept: PB });
    const etag = first.headers.get('etag')!;
    expect((await api.call('GET', '/openapi/v2', { accept: PB, headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await api.call('GET', '/openapi/v2', { accept: 'application/json', headers: { 'If-None-Match': etag } })).status).toBe(200);
    expect((await api.call('GET', '/openapi/v2', { accept: 'text/html' })).status).toBe(406);
    expect((await api.call('GET', '/openapi/v2', { accept: 'application/json;q=0' })).status).toBe(406);
    expect((await api.call('GET', '/openapi/v2', { accept: `application/json;q=0.5, ${PB}` })).headers.get('content-type')).toContain('protobuf');

    const index = await (await api.call('GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const hash = new URL(url, 'https://x').searchParams.get('hash')!;
    expect(hash).toMatch(/^[0-9A-F]{128}$/);
    const doc = await api.call('GET', url);
    expect(doc.headers.get('cache-control')).toBe('public, immutable');
    expect(doc.headers.get('etag')).toBe(`"${hash}"`);
    const stale = await api.call('GET', '/openapi/v3/apis/apps/v1?hash=OLD', { headers: {} });
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(url);
  });

  it('fuzz: hostile Accept headers get 200 or 406, never a 5xx (seeded)', async () => {
    const next = seededRandom(50);
    const pieces = ['application/json', PB, '*/*', 'application/*', ';q=', '0', '1', '0.5', ',', ';', '/', 'q', '=', 'x'.repeat(300), 'text/html', ' '];
    for (let i = 0; i < 300; i++) {
      let accept = '';
      const n = Math.floor(next() * 12);
      for (let j = 0; j < n; j++) accept += next() < 0.7 ? pieces[Math.floor(next() * pieces.length)] : hostileString(next, 3);
      accept = accept.replace(/[^\x20-\x7e\t]/g, ''); // what an HTTP header can carry
      const r = await api.call('GET', '/openapi/v2', { accept });
      expect([200, 406], JSON.stringify(accept)).toContain(r.status);
      await r.arrayBuffer();
      expect(parseAccept(accept).length).toBeLessThanOrEqual(64);
    }
    expect(parseAccept(Array.from({ length: 10_000 }, () => 'a/b').join(','))).toHaveLength(64);
  });
});
