// OpenAPI v2 (/openapi/v2, JSON or gnostic protobuf) and v3 (an index and per group-version
// documents): every kind's schema with the Kubernetes extensions, and each path's operations (kubectl
// apply looks for fieldValidation to know the server validates fields). Documents are built on first
// request and cached; caching follows kube-openapi: ETag = the uppercase hex SHA-512 of the body in
// quotes, If-None-Match -> 304, `Vary: Accept`; a v3 document asked with the current `?hash=` is
// `Cache-Control: public, immutable`, with an old hash it redirects (301) to the current one. v2 and
// the v3 group-version documents come as JSON or gnostic protobuf (the same ETag for both forms, as
// kube-openapi's handler3 has it), gzipped when the client accepts it (response-gzip.ts).
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { servedGroupVersions, type ResourceType } from '../resources/resource-types.js';
import { negotiate } from './accept-header.js';
import { gvPath, kindPaths } from './openapi-paths.js';
import { componentSchemas } from './openapi-schemas.js';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.js';
import { encodeOpenApiV3 } from './openapi-v3-protobuf.js';
import { acceptsGzip, GZIP_MIN_BYTES, gzipOf } from './response-gzip.js';
import { RouteNotFoundError } from './route-not-found-error.js';
import { versionInfo } from './version-routes.js';

interface Document { body: Uint8Array | string; etag: string }
const etagOf = (body: Uint8Array | string) => createHash('sha512').update(body).digest('hex').toUpperCase();
const document = (body: Uint8Array | string): Document => ({ body, etag: etagOf(body) });
const info = () => ({ title: 'Kubernetes', version: versionInfo().gitVersion });

function groupVersionDocument(types: ResourceType[]) {
  const paths: Record<string, unknown> = {};
  for (const t of types) Object.assign(paths, kindPaths(t, 'v3'));
  return {
    openapi: '3.0.0', info: info(), paths,
    components: { schemas: componentSchemas(types), securitySchemes: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } } },
    security: [{ BearerToken: [] }],
  };
}

/** The whole API as one Swagger 2.0 document. */
export function openApiV2Document(): Record<string, unknown> {
  const types = servedGroupVersions().flatMap((gv) => gv.types);
  const paths: Record<string, unknown> = {};
  for (const t of types) Object.assign(paths, kindPaths(t, 'v2'));
  return {
    swagger: '2.0', info: info(), paths, definitions: componentSchemas(types, 'v2'),
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    security: [{ BearerToken: [] }],
  };
}

const groupVersions = new Map(servedGroupVersions().map((gv) => [gvPath(gv.group, gv.version), gv]));
const v3Documents = new Map<string, { json: Document; protobuf?: Document }>();
let v2: { json: Document; protobuf: Document } | undefined;
const lastModified = new Date().toUTCString();

function v3DocumentFor(path: string): Document | undefined {
  const cached = v3Documents.get(path);
  if (cached) return cached.json;
  const gv = groupVersions.get(path);
  if (!gv) return undefined;
  const doc = document(JSON.stringify(groupVersionDocument(gv.types)));
  v3Documents.set(path, { json: doc });
  return doc;
}

/** The protobuf form of a v3 document, made on first request; its ETag is the JSON one's (kube-openapi's pbCache). */
function v3ProtobufFor(path: string, json: Document): Document {
  const entry = v3Documents.get(path)!;
  entry.protobuf ??= { body: encodeOpenApiV3(JSON.parse(json.body as string) as Record<string, unknown>), etag: json.etag };
  return entry.protobuf;
}

function v2Documents() {
  if (!v2) {
    const doc = openApiV2Document();
    v2 = { json: document(JSON.stringify(doc)), protobuf: document(encodeOpenApiV2(doc)) };
  }
  return v2;
}

const PROTO_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const PROTO_V3 = 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf';

/** What http.ServeContent does with a document: ETag, Last-Modified, and 304 for a matching If-None-Match. */
function serve(c: Context, doc: Document, contentType: string, extra: Record<string, string> = {}) {
  const etag = `"${doc.etag}"`;
  const vary = [...new Set([...(extra['Vary'] ?? 'Accept').split(', '), 'Accept-Encoding'])].join(', ');
  const headers: Record<string, string> = { 'Content-Type': contentType, Etag: etag, 'Last-Modified': lastModified, ...extra, Vary: vary };
  const ifNoneMatch = c.req.header('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',', 64).some((t) => t.trim() === etag || t.trim() === '*' || t.trim() === `W/${etag}`)) return c.body(null, 304, headers);
  const size = typeof doc.body === 'string' ? Buffer.byteLength(doc.body) : doc.body.length;
  if (size >= GZIP_MIN_BYTES && acceptsGzip(c.req.header('accept-encoding'))) return c.body(gzipOf(doc), 200, { ...headers, 'Content-Encoding': 'gzip' });
  return c.body(typeof doc.body === 'string' ? doc.body : Buffer.from(doc.body), 200, headers);
}

export function registerOpenApiRoutes(app: Hono): void {
  app.get('/openapi/v2', (c) => {
    const docs = v2Documents();
    const offer = negotiate(c.req.header('accept'), [
      { mediaType: 'application/json', doc: docs.json, contentType: 'application/json' },
      { mediaType: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', doc: docs.protobuf, contentType: PROTO_V2 },
      { mediaType: PROTO_V2, doc: docs.protobuf, contentType: PROTO_V2 },
    ]);
    if (!offer) return c.body(null, 406, { Vary: 'Accept' });
    return serve(c, offer.doc, offer.contentType);
  });
  app.get('/openapi/v3', (c) => {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const path of groupVersions.keys()) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${v3DocumentFor(path)!.etag}` };
    const text = JSON.stringify({ paths });
    if (!negotiate(c.req.header('accept'), [{ mediaType: 'application/json' }])) return c.body(null, 406);
    return serve(c, document(text), 'application/json');
  });
  app.get('/openapi/v3/*', (c) => {
    const path = c.req.path.slice('/openapi/v3/'.length);
    const doc = v3DocumentFor(path);
    if (!doc) throw new RouteNotFoundError();
    const offer = negotiate(c.req.header('accept'), [
      { mediaType: 'application/json', contentType: 'application/json' },
      { mediaType: PROTO_V3, contentType: PROTO_V3 },
      { mediaType: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf', contentType: PROTO_V3 },
    ]);
    if (!offer) return c.body(null, 406, { Vary: 'Accept' });
    const hash = c.req.query('hash');
    if (hash !== undefined && hash !== doc.etag) return c.redirect(`/openapi/v3/${path}?hash=${doc.etag}`, 301);
    const cache: Record<string, string> = hash === undefined ? {} : {
      Vary: 'Accept', 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 86_400_000).toUTCString(),
    };
    return serve(c, offer.contentType === PROTO_V3 ? v3ProtobufFor(path, doc) : doc, offer.contentType, cache);
  });
}
