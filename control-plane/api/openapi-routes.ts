// Minimal OpenAPI v3: an index and per group-version documents listing each object path's patch operation,
// which is what kubectl's apply needs to see that server-side field validation is supported.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { servedGroupVersions, type ResourceType } from '../resources/resource-types.js';
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
    responses: { '200': { description: 'OK' } },
  };
}

function groupVersionDocument(group: string, version: string, types: ResourceType[]) {
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    for (const p of objectPaths(t)) paths[p] = { get: operation(t, 'get'), put: operation(t, 'put'), patch: operation(t, 'patch'), delete: operation(t, 'delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: versionInfo().gitVersion }, paths, components: { schemas: {} } };
}

const documents = new Map(servedGroupVersions().map((gv) => {
  const text = JSON.stringify(groupVersionDocument(gv.group, gv.version, gv.types));
  return [gvPath(gv.group, gv.version), { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 64).toUpperCase() }];
}));

export function registerOpenApiRoutes(app: Hono): void {
  app.get('/openapi/v3', (c) => {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [path, doc] of documents) paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
    return c.json({ paths });
  });
  app.get('/openapi/v3/*', (c) => {
    const doc = documents.get(c.req.path.slice('/openapi/v3/'.length));
    if (!doc) throw new RouteNotFoundError();
    return c.body(doc.text, 200, { 'Content-Type': 'application/json', Etag: `"${doc.hash}"` });
  });
}
