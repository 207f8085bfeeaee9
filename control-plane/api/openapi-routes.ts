// OpenAPI v3: an index and per group-version documents with each object path's operations (kubectl's
// apply looks for the fieldValidation parameter to know the server validates fields) and the kinds'
// schemas as components (kubectl explain). Documents are built on first request and cached.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { servedGroupVersions, type ResourceType } from '../resources/resource-types.js';
import { componentSchemas, kindSchemaRef } from './openapi-schemas.js';
import { RouteNotFoundError } from './route-not-found-error.js';
import { versionInfo } from './version-routes.js';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function objectPaths(t: ResourceType): string[] {
  const base = `/${gvPath(t.group, t.version)}`;
  const paths = t.namespaced ? [`${base}/namespaces/{namespace}/${t.plural}/{name}`] : [`${base}/${t.plural}/{name}`];
  if (t.subresources.includes('status')) paths.push(`${paths[0]}/status`);
  return paths;
}

function operation(t: ResourceType, action: string) {
  return {
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
    parameters: [
      { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
    ],
    responses: { '200': { description: 'OK', ...(kindSchemaRef(t) ? { content: { 'application/json': { schema: kindSchemaRef(t) } } } : {}) } },
  };
}

function groupVersionDocument(group: string, version: string, types: ResourceType[]) {
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    if (!t.verbs.includes('get')) continue; // create-only reviews: no object paths
    for (const p of objectPaths(t)) paths[p] = { get: operation(t, 'get'), put: operation(t, 'put'), patch: operation(t, 'patch'), delete: operation(t, 'delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: versionInfo().gitVersion }, paths, components: { schemas: componentSchemas(types) } };
}

interface Document { text: string; hash: string }
const groupVersions = new Map(servedGroupVersions().map((gv) => [gvPath(gv.group, gv.version), gv]));
const documents = new Map<string, Document>();

function documentFor(path: string): Document | undefined {
  const cached = documents.get(path);
  if (cached) return cached;
  const gv = groupVersions.get(path);
  if (!gv) return undefined;
  const text = JSON.stringify(groupVersionDocument(gv.group, gv.version, gv.types));
  const doc = { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 64).toUpperCase() };
  documents.set(path, doc);
  return doc;
}

export function registerOpenApiRoutes(app: Hono): void {
  app.get('/openapi/v3', (c) => {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const path of groupVersions.keys()) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${documentFor(path)!.hash}` };
    return c.json({ paths });
  });
  app.get('/openapi/v3/*', (c) => {
    const doc = documentFor(c.req.path.slice('/openapi/v3/'.length));
    if (!doc) throw new RouteNotFoundError();
    return c.body(doc.text, 200, { 'Content-Type': 'application/json', Etag: `"${doc.hash}"` });
  });
}
