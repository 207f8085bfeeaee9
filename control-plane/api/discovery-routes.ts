// GET /api, /apis, /api/v1, /apis/{group}[/{version}]: legacy or aggregated discovery by Accept header.
import type { Context, Hono } from 'hono';
import {
  aggregatedDiscovery, aggregatedDiscoveryContentType, apiGroupDocument, apiGroupList, apiResourceList, apiVersions,
} from './discovery-documents.js';
import { RouteNotFoundError } from './route-not-found-error.js';

const wantsAggregated = (c: Context) => (c.req.header('accept') ?? '').includes('as=APIGroupDiscoveryList');

function aggregated(c: Context, core: boolean): Response {
  c.header('Vary', 'Accept');
  return c.body(JSON.stringify(aggregatedDiscovery(core)), 200, { 'Content-Type': aggregatedDiscoveryContentType });
}

export function registerDiscoveryRoutes(app: Hono): void {
  app.get('/api', (c) => (wantsAggregated(c) ? aggregated(c, true) : c.json(apiVersions(new URL(c.req.url).host))));
  app.get('/apis', (c) => (wantsAggregated(c) ? aggregated(c, false) : c.json(apiGroupList())));
  app.get('/api/v1', (c) => c.json(apiResourceList('', 'v1')));
  app.get('/apis/:group', (c) => c.json(apiGroupDocument(c.req.param('group')) ?? notFound()));
  app.get('/apis/:group/:version', (c) => c.json(apiResourceList(c.req.param('group'), c.req.param('version')) ?? notFound()));
}

function notFound(): never {
  throw new RouteNotFoundError();
}
