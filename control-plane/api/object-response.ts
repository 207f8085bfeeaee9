// Writes an object or list as JSON, or as a Table when the client asked for one.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { KubeList, KubeObject } from '../../api/types/meta.js';
import type { ResourceType } from '../resources/resource-types.js';
import type { ApiDeps } from './api-deps.js';
import { buildTable, tableRequest } from './tables/table-response.js';

export function objectResponse(c: Context, deps: ApiDeps, type: ResourceType, obj: KubeObject, code: ContentfulStatusCode = 200): Response {
  const table = tableRequest(c);
  if (table) return c.json(buildTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, table, deps.clock.now()), code);
  return c.json(obj, code);
}

export function listResponse(c: Context, deps: ApiDeps, type: ResourceType, list: KubeList): Response {
  const table = tableRequest(c);
  if (table) return c.json(buildTable(type, list.items, list.metadata, table, deps.clock.now()));
  return c.json(list);
}
