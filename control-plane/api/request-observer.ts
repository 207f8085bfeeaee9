// Measures every API request for metrics, labelled as the Kubernetes API server labels
// apiserver_request_total: verb (LIST, WATCH, GET, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION),
// group, version, resource, subresource, scope, code. Paths outside the resource tree are labelled
// by a fixed prefix (never the raw path: a client must not be able to mint label values).
import type { MiddlewareHandler } from 'hono';
import { parseResourcePath } from './resource-path.js';

export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  /** The resource's plural; for a non-resource path, its known prefix (`/registry`, `/dashboard`...). */
  resource: string;
  subresource: string;
  /** `resource` (one object), `namespace`, `cluster`, or '' for a non-resource path. */
  scope: string;
}

/** What the API reports (control-plane/metrics/api-metrics.ts). */
export interface ApiRequestObserver {
  /** A request was answered. `durationMs` is absent for long-running ones (watches, followed logs, exec). */
  request(labels: RequestLabels, code: number, durationMs: number | undefined): void;
  /** A watch stream opened: the handle counts the events written to it, and its closing. */
  watchOpened(labels: RequestLabels): WatchStreamObserver;
}

export interface WatchStreamObserver {
  eventSent(): void;
  /** Called once, when the stream ends. */
  closed(): void;
}

const NON_RESOURCE_PREFIXES = [
  '/api', '/apis', '/openapi', '/version', '/healthz', '/livez', '/readyz', '/metrics', '/dashboard', '/registry',
];

const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

export function requestLabels(method: string, path: string, query: URLSearchParams, contentType = ''): RequestLabels {
  const segments = path.split('/');
  const isCore = segments[1] === 'api' && segments[2] === 'v1' && segments.length > 3;
  const isGroup = segments[1] === 'apis' && segments.length > 4;
  if (isCore || isGroup) {
    try {
      const [group, version, rest] = isCore ? ['', 'v1', segments.slice(3)] : [segments[2]!, segments[3]!, segments.slice(4)];
      const t = parseResourcePath(group, version, rest);
      const watch = t.watchPath || ['true', '1'].includes(query.get('watch') ?? '');
      return {
        verb: resourceVerb(method, watch, t.name !== undefined, contentType),
        group, version, resource: t.type.plural, subresource: t.subresource ?? '',
        scope: t.name !== undefined ? 'resource' : t.namespace !== undefined ? 'namespace' : 'cluster',
      };
    } catch {
      // not a served resource: labelled as the non-resource path it is
    }
  }
  const prefix = NON_RESOURCE_PREFIXES.find((p) => path === p || path.startsWith(`${p}/`)) ?? 'other';
  return { verb: method.toUpperCase(), group: '', version: '', resource: prefix, subresource: '', scope: '' };
}

function resourceVerb(method: string, watch: boolean, named: boolean, contentType: string): string {
  switch (method.toUpperCase()) {
    case 'GET': return watch ? 'WATCH' : named ? 'GET' : 'LIST';
    case 'PATCH': return contentType.startsWith('application/apply-patch') ? 'APPLY' : 'PATCH';
    case 'DELETE': return named ? 'DELETE' : 'DELETECOLLECTION';
    default: return method.toUpperCase();
  }
}

export const isLongRunning = (labels: RequestLabels, query: URLSearchParams): boolean =>
  labels.verb === 'WATCH' || LONG_RUNNING_SUBRESOURCES.has(labels.subresource) && (labels.subresource !== 'log' || query.get('follow') === 'true');

/** First in the chain, so rejected requests (401, 403, 404) are counted too. */
export function observeRequests(observer: ApiRequestObserver): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = performance.now(); // a measurement, not timed logic
    await next();
    const url = new URL(c.req.url);
    const labels = requestLabels(c.req.method, c.req.path, url.searchParams, c.req.header('content-type') ?? '');
    observer.request(labels, c.res.status, isLongRunning(labels, url.searchParams) ? undefined : performance.now() - startedAt);
  };
}
