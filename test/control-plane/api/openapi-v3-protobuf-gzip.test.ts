// The OpenAPI v3 documents as kube-openapi's handler3 serves them: JSON, or gnostic protobuf for
// `application/com.github.proto-openapi.spec.v3.v1.0+protobuf` (and the deprecated `@` spelling),
// with the JSON document's ETag; and gzip of the documents for clients that accept it (as the
// /openapi/v2 handler's gziphandler: 1,400 bytes or more, `Vary: Accept-Encoding`). Each served
// group-version's protobuf decodes (a decoder written from OpenAPIv3.proto's field numbers) back to
// its JSON document; hostile Accept and Accept-Encoding headers get 200 or 406, never a 5xx.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fields, text } from '../../../control-plane/api/protobuf-wire.js';
import { acceptsGzip, GZIP_MIN_BYTES } from '../../../control-plane/api/response-gzip.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

type Json = Record<string, any>;
const PB3 = 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf';
const PB3_DEPRECATED = 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf';
const sub = (v: bigint | Uint8Array) => v as Uint8Array;

/** A message holding repeated Named* entries (name 1, value 2) at `entry`, as an object. */
function namedMap(buf: Uint8Array, entry: number, value: (b: Uint8Array) => unknown): Json {
  const out: Json = {};
  for (const e of fields(buf)) {
    if (e.number !== entry) throw new Error(`unexpected map field ${e.number}`);
    let name = '';
    let v: unknown;
    for (const f of fields(sub(e.value))) {
      if (f.number === 1) name = text(f.value);
      else if (f.number === 2) v = value(sub(f.value));
    }
    out[name] = v;
  }
  return out;
}
const anyValue = (buf: Uint8Array): unknown => {
  for (const f of fields(buf)) if (f.number === 2) return JSON.parse(text(f.value));
  return undefined;
};
const extension = (s: Json, buf: Uint8Array) => Object.assign(s, namedMap(Uint8Array.from([0x0a, ...lengthPrefixed(buf)]), 1, anyValue));
function lengthPrefixed(buf: Uint8Array): number[] {
  const out: number[] = [];
  let v = buf.length;
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
  out.push(v, ...buf);
  return out;
}

function schemaOrReference(buf: Uint8Array): Json {
  for (const f of fields(buf)) {
    if (f.number === 1) return decodeSchema(sub(f.value));
    if (f.number === 2) {
      const r: Json = {};
      for (const g of fields(sub(f.value))) {
        if (g.number === 1) r['$ref'] = text(g.value);
        else if (g.number === 3) r['description'] = text(g.value);
        else throw new Error(`unexpected Reference field ${g.number}`);
      }
      return r;
    }
  }
  throw new Error('empty SchemaOrReference');
}

function decodeSchema(buf: Uint8Array): Json {
  const s: Json = {};
  for (const f of fields(buf)) {
    switch (f.number) {
      case 20: s['uniqueItems'] = f.value === 1n; break;
      case 23: (s['required'] ??= []).push(text(f.value)); break;
      case 25: s['type'] = text(f.value); break;
      case 26: (s['allOf'] ??= []).push(schemaOrReference(sub(f.value))); break;
      case 30: for (const i of fields(sub(f.value))) s['items'] = schemaOrReference(sub(i.value)); break;
      case 31: s['properties'] = namedMap(sub(f.value), 1, schemaOrReference); break;
      case 32: for (const a of fields(sub(f.value))) s['additionalProperties'] = a.number === 1 ? schemaOrReference(sub(a.value)) : a.value === 1n; break;
      case 34: s['description'] = text(f.value); break;
      case 35: s['format'] = text(f.value); break;
      case 36: extension(s, sub(f.value)); break;
      default: throw new Error(`unexpected Schema field ${f.number}`);
    }
  }
  return s;
}

const mediaTypes = (buf: Uint8Array) => namedMap(buf, 1, (mt) => {
  const m: Json = {};
  for (const f of fields(mt)) if (f.number === 1) m['schema'] = schemaOrReference(sub(f.value));
  return m;
});

function parameter(buf: Uint8Array): Json {
  const p: Json = {};
  for (const o of fields(buf)) {
    if (o.number !== 1) throw new Error('a parameter reference');
    for (const f of fields(sub(o.value))) {
      switch (f.number) {
        case 1: p['name'] = text(f.value); break;
        case 2: p['in'] = text(f.value); break;
        case 3: p['description'] = text(f.value); break;
        case 4: p['required'] = f.value === 1n; break;
        case 10: p['schema'] = schemaOrReference(sub(f.value)); break;
        case 14: extension(p, sub(f.value)); break;
        default: throw new Error(`unexpected Parameter field ${f.number}`);
      }
    }
  }
  return p;
}

function operation(buf: Uint8Array): Json {
  const op: Json = {};
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1: (op['tags'] ??= []).push(text(f.value)); break;
      case 3: op['description'] = text(f.value); break;
      case 5: op['operationId'] = text(f.value); break;
      case 6: (op['parameters'] ??= []).push(parameter(sub(f.value))); break;
      case 7: for (const b of fields(sub(f.value))) {
        const body: Json = {};
        for (const g of fields(sub(b.value))) {
          if (g.number === 1) body['description'] = text(g.value);
          else if (g.number === 2) body['content'] = mediaTypes(sub(g.value));
          else if (g.number === 3) body['required'] = g.value === 1n;
        }
        op['requestBody'] = body;
      } break;
      case 8: op['responses'] = namedMap(sub(f.value), 2, (r) => {
        const resp: Json = {};
        for (const o of fields(r)) for (const g of fields(sub(o.value))) {
          if (g.number === 1) resp['description'] = text(g.value);
          else if (g.number === 3) resp['content'] = mediaTypes(sub(g.value));
        }
        return resp;
      }); break;
      case 13: extension(op, sub(f.value)); break;
      default: throw new Error(`unexpected Operation field ${f.number}`);
    }
  }
  return op;
}

const METHODS: Record<number, string> = { 4: 'get', 5: 'put', 6: 'post', 7: 'delete', 8: 'options', 9: 'head', 10: 'patch' };

function decodeDocument(buf: Uint8Array): Json {
  const doc: Json = {};
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1: doc['openapi'] = text(f.value); break;
      case 2: {
        const info: Json = {};
        for (const g of fields(sub(f.value))) if (g.number === 1) info['title'] = text(g.value); else if (g.number === 6) info['version'] = text(g.value);
        doc['info'] = info;
        break;
      }
      case 4: doc['paths'] = namedMap(sub(f.value), 1, (item) => {
        const out: Json = {};
        for (const g of fields(item)) {
          if (METHODS[g.number]) out[METHODS[g.number]!] = operation(sub(g.value));
          else if (g.number === 13) (out['parameters'] ??= []).push(parameter(sub(g.value)));
          else if (g.number === 14) extension(out, sub(g.value));
          else throw new Error(`unexpected PathItem field ${g.number}`);
        }
        return out;
      }); break;
      case 5: {
        const components: Json = {};
        for (const g of fields(sub(f.value))) {
          if (g.number === 1) components['schemas'] = namedMap(sub(g.value), 1, schemaOrReference);
          else if (g.number === 7) components['securitySchemes'] = namedMap(sub(g.value), 1, (s) => {
            const out: Json = {};
            const names = ['', 'type', 'description', 'name', 'in', 'scheme'];
            for (const o of fields(s)) for (const h of fields(sub(o.value))) out[names[h.number]!] = text(h.value);
            return out;
          });
        }
        doc['components'] = components;
        break;
      }
      case 6: (doc['security'] ??= []).push(namedMap(sub(f.value), 1, (a) => [...fields(a)].map((v) => text(v.value)))); break;
      default: throw new Error(`unexpected Document field ${f.number}`);
    }
  }
  return doc;
}

/** What the encoder keeps: empty strings are proto3 zero values. */
const withoutEmpty = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== '' && !(Array.isArray(x) && x.length === 0)).map(([k, x]) => [k, k.startsWith('x-') ? x : withoutEmpty(x)]));
};

describe('OpenAPI v3 in protobuf, and gzip of the documents', () => {
  let api: TestApi;
  let index: Record<string, { serverRelativeURL: string }>;
  beforeAll(async () => {
    api = await openTestApi();
    index = ((await (await api.call('GET', '/openapi/v3')).json()) as { paths: typeof index }).paths;
  });
  afterAll(async () => api.close());

  it('serves every group-version as gnostic protobuf that decodes to its JSON document, with the same ETag', async () => {
    expect(Object.keys(index).length).toBeGreaterThan(5);
    for (const [gv, { serverRelativeURL }] of Object.entries(index)) {
      const json = await api.call('GET', serverRelativeURL, { accept: 'application/json' });
      const doc = await json.json() as Json;
      for (const accept of [PB3, PB3_DEPRECATED, `text/html;q=0.9, ${PB3}`]) {
        const pb = await api.call('GET', serverRelativeURL, { accept });
        expect(pb.status, `${gv} ${accept}`).toBe(200);
        expect(pb.headers.get('content-type')).toBe(PB3);
        expect(pb.headers.get('etag')).toBe(json.headers.get('etag'));
        expect(pb.headers.get('cache-control')).toBe('public, immutable');
        expect(decodeDocument(new Uint8Array(await pb.arrayBuffer())), gv).toEqual({ ...(withoutEmpty(doc) as Json), security: doc['security'] });
      }
    }
    // JSON stays the answer for */* and for JSON preferred; what it cannot produce is 406
    const path = index['apis/apps/v1']!.serverRelativeURL;
    expect((await api.call('GET', path, { accept: '*/*' })).headers.get('content-type')).toBe('application/json');
    expect((await api.call('GET', path, { accept: `application/json, ${PB3}` })).headers.get('content-type')).toBe('application/json');
    expect((await api.call('GET', path, { accept: `application/json;q=0.5, ${PB3}` })).headers.get('content-type')).toBe(PB3);
    expect((await api.call('GET', path, { accept: 'application/yaml' })).status).toBe(406);
    const etag = (await api.call('GET', path, { accept: PB3 })).headers.get('etag')!;
    expect((await api.call('GET', path, { accept: PB3, headers: { 'If-None-Match': etag } })).status).toBe(304);
  });

  it('gzips documents of 1,400 bytes or more when Accept-Encoding asks for gzip', async () => {
    const path = index['apis/apps/v1']!.serverRelativeURL;
    for (const accept of ['application/json', PB3]) {
      const plain = await api.call('GET', path, { accept, headers: { 'Accept-Encoding': 'identity' } });
      expect(plain.headers.get('content-encoding')).toBeNull();
      expect(plain.headers.get('vary')).toBe('Accept, Accept-Encoding');
      const body = Buffer.from(await plain.arrayBuffer());
      const zipped = await api.call('GET', path, { accept, headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      expect(zipped.headers.get('vary')).toBe('Accept, Accept-Encoding');
      expect(zipped.headers.get('etag')).toBe(plain.headers.get('etag'));
      const raw = Buffer.from(await zipped.arrayBuffer());
      expect(raw.length).toBeLessThan(body.length / 4);
      expect(gunzipSync(raw).equals(body)).toBe(true);
    }
    const v2 = await api.call('GET', '/openapi/v2', { accept: 'application/json', headers: { 'Accept-Encoding': 'gzip' } });
    expect(v2.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(gunzipSync(Buffer.from(await v2.arrayBuffer())).toString())).toHaveProperty('swagger', '2.0');
    for (const refused of ['gzip;q=0', '*', 'br', 'x-gzip', 'gzip;q=abc', 'gzip, gzip;q=0']) {
      const r = await api.call('GET', path, { accept: 'application/json', headers: { 'Accept-Encoding': refused } });
      expect(r.headers.get('content-encoding'), refused).toBeNull();
      await r.arrayBuffer();
    }
    // the v3 index too, by the same threshold
    const v3Index = await api.call('GET', '/openapi/v3', { headers: { 'Accept-Encoding': 'gzip' } });
    const indexBody = Buffer.from(await v3Index.arrayBuffer());
    const indexZipped = v3Index.headers.get('content-encoding') === 'gzip';
    expect(indexZipped).toBe((indexZipped ? gunzipSync(indexBody) : indexBody).length >= GZIP_MIN_BYTES);
  });

  it('fuzz: hostile Accept and Accept-Encoding headers get 200 or 406 and a body that decodes (seeded)', async () => {
    const next = seededRandom(59);
    const types = ['application/json', PB3, PB3_DEPRECATED, '*/*', 'application/*', ';q=', '0', '1', ',', ';', '/', 'x'.repeat(300), ' '];
    const codings = ['gzip', 'GZIP', 'identity', '*', 'br', ';q=', '0', '0.5', '1', 'abc', ',', ';', '-1', '1e999', 'x'.repeat(300), ' '];
    const pick = (xs: string[]) => xs[Math.floor(next() * xs.length)]!;
    const header = (pieces: string[]) => {
      let h = '';
      for (let j = Math.floor(next() * 10); j > 0; j--) h += next() < 0.7 ? pick(pieces) : hostileString(next, 3);
      return h.replace(/[^\x20-\x7e\t]/g, '');
    };
    const path = index['apis/apps/v1']!.serverRelativeURL;
    for (let i = 0; i < 200; i++) {
      const accept = header(types);
      const acceptEncoding = header(codings);
      const r = await api.call('GET', next() < 0.5 ? path : '/openapi/v2', { accept, headers: { 'Accept-Encoding': acceptEncoding } });
      expect([200, 406], JSON.stringify([accept, acceptEncoding])).toContain(r.status);
      const raw = Buffer.from(await r.arrayBuffer());
      if (r.headers.get('content-encoding') === 'gzip') {
        expect(acceptsGzip(acceptEncoding)).toBe(true);
        expect(() => gunzipSync(raw)).not.toThrow();
      }
    }
    expect(acceptsGzip(Array.from({ length: 10_000 }, () => 'br').join(',') + ',gzip')).toBe(false); // only the first 64 codings are read
  });
});
