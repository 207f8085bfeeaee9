// What OpenAPI documents cost: building the v2 document, its JSON and gnostic protobuf encodings
// (sizes, times over repeated builds), and serving /openapi/v2 through the app once cached: a full
// protobuf answer vs a 304 for a client that sends the ETag back (what kubectl's disk cache does not
// do for v2, but proxies and client-go's HTTP cache do); and the bytes on the wire of v2 and of the
// v3 apps/v1 document, JSON and protobuf, plain and gzipped (what kubectl gets). Usage: node dist/bench/openapi.js [builds=20]
// [requests=300]. Prints JSON (milliseconds, bytes).
import { createApiApp } from '../control-plane/api/api-app.js';
import { openApiV2Document } from '../control-plane/api/openapi-routes.js';
import { encodeOpenApiV2 } from '../control-plane/api/openapi-v2-protobuf.js';
import { ResourceStore } from '../control-plane/resources/resource-store.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import { summarize } from './percentiles.js';

const builds = Number(process.argv[2] ?? 20);
const requests = Number(process.argv[3] ?? 300);
const PB = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

const build: number[] = [];
const json: number[] = [];
const proto: number[] = [];
let sizes = { json: 0, protobuf: 0, definitions: 0, paths: 0 };
for (let i = 0; i < builds; i++) {
  let t = performance.now();
  const doc = openApiV2Document();
  build.push(performance.now() - t);
  t = performance.now();
  const text = JSON.stringify(doc);
  json.push(performance.now() - t);
  t = performance.now();
  const bytes = encodeOpenApiV2(doc);
  proto.push(performance.now() - t);
  sizes = { json: text.length, protobuf: bytes.length, definitions: Object.keys(doc['definitions'] as object).length, paths: Object.keys(doc['paths'] as object).length };
}

const store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
const app = createApiApp({ resources: new ResourceStore(store), tokens: (t) => (t === 'bench' ? { name: 'admin', groups: ['system:masters'] } : undefined) });
const get = (headers: Record<string, string>) => app.request('/openapi/v2', { headers: { authorization: 'Bearer bench', accept: PB, ...headers } });
const etag = (await get({})).headers.get('etag') ?? '';
const full: number[] = [];
const notModified: number[] = [];
for (let i = 0; i < requests; i++) {
  let t = performance.now();
  await (await get({})).arrayBuffer();
  full.push(performance.now() - t);
  t = performance.now();
  const r = await get({ 'if-none-match': etag });
  await r.arrayBuffer();
  if (r.status !== 304) throw new Error(`expected 304, got ${r.status}`);
  notModified.push(performance.now() - t);
}
/** Bytes on the wire of one document: plain, and with Accept-Encoding: gzip (with the first gzip's time: cached afterwards). */
async function wire(path: string, accept: string) {
  const plain = (await (await app.request(path, { headers: { authorization: 'Bearer bench', accept } })).arrayBuffer()).byteLength;
  const t = performance.now();
  const zipped = await app.request(path, { headers: { authorization: 'Bearer bench', accept, 'accept-encoding': 'gzip' } });
  const gzip = (await zipped.arrayBuffer()).byteLength;
  return { plain, gzip, firstGzipMs: Math.round((performance.now() - t) * 10) / 10, encoding: zipped.headers.get('content-encoding') };
}
const index = (await (await app.request('/openapi/v3', { headers: { authorization: 'Bearer bench' } })).json()) as { paths: Record<string, { serverRelativeURL: string }> };
const appsV1 = index.paths['apis/apps/v1']!.serverRelativeURL;
const onTheWire = {
  v2Json: await wire('/openapi/v2', 'application/json'), v2Protobuf: await wire('/openapi/v2', PB),
  v3AppsV1Json: await wire(appsV1, 'application/json'), v3AppsV1Protobuf: await wire(appsV1, 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf'),
};
await store.close();
console.log(JSON.stringify({
  onTheWire,
  openapiV2: { sizes, buildMs: summarize(build), jsonMs: summarize(json), protobufMs: summarize(proto) },
  serveV2: { fullProtobufMs: summarize(full), notModifiedMs: summarize(notModified) },
}));
