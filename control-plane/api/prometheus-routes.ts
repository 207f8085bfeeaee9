// Prometheus endpoints: GET /metrics (the control plane's own), and GET
// /api/v1/nodes/{name}/proxy/metrics (an agent's, fetched over the node channel, so Prometheus
// reaches devices behind NAT through the API server as it reaches kubelets). Both are for the
// admin (system:masters) and for the monitoring identity (group system:monitoring, the
// DATA_DIR/metrics-token), which may call nothing else (monitoringGuard).
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { ForbiddenError, NotFoundError } from '../../api/errors.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { ApiUser } from './auth.js';

export const MONITORING_GROUP = 'system:monitoring';
const ADMIN_GROUP = 'system:masters';

/** What GET /metrics serves (control-plane/metrics/control-plane-metrics.ts). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Fetches one agent's metrics in the Prometheus text format (over the node channel). */
export interface NodeMetricsScraper {
  scrape(node: string, signal: AbortSignal): Promise<string>;
}

const NODE_METRICS_PATH = /^\/api\/v1\/nodes\/[^/]+\/proxy\/metrics$/;
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

const isIn = (user: ApiUser | undefined, group: string) => user?.groups?.includes(group) ?? false;

/** A monitoring identity reads metrics and nothing else (not even discovery). */
export const monitoringGuard: MiddlewareHandler = async (c, next) => {
  const user = c.get('user') as ApiUser | undefined;
  if (isIn(user, MONITORING_GROUP) && !isIn(user, ADMIN_GROUP) && !(c.req.method === 'GET' && (c.req.path === '/metrics' || NODE_METRICS_PATH.test(c.req.path)))) {
    throw new ForbiddenError(`User "${user!.name}" cannot ${c.req.method.toLowerCase()} path "${c.req.path}": monitoring credentials only read metrics`);
  }
  return next();
};

function requireMetricsReader(c: Context): void {
  const user = c.get('user') as ApiUser | undefined;
  if (!isIn(user, ADMIN_GROUP) && !isIn(user, MONITORING_GROUP)) {
    throw new ForbiddenError(`User "${user?.name ?? 'system:anonymous'}" cannot get path "${c.req.path}"`);
  }
}

export interface PrometheusRouteOptions {
  metrics?: MetricsSource | undefined;
  nodeMetrics?: NodeMetricsScraper | undefined;
  resources: ResourceStore;
}

export function registerPrometheusRoutes(app: Hono, options: PrometheusRouteOptions): void {
  const { metrics, nodeMetrics, resources } = options;
  if (metrics) {
    app.get('/metrics', async (c) => {
      requireMetricsReader(c);
      return c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    });
  }
  if (nodeMetrics) {
    app.get('/api/v1/nodes/:name/proxy/metrics', async (c) => {
      requireMetricsReader(c);
      const name = c.req.param('name');
      const node = await resources.get(resourceTypes.nodes, undefined, name).catch((error: unknown) => {
        if (error instanceof NotFoundError) throw new NotFoundError({ kind: 'nodes', name }, { cause: error });
        throw error;
      });
      const text = await nodeMetrics.scrape(node.metadata.name!, c.req.raw.signal);
      return c.body(text, 200, { 'content-type': PROMETHEUS_TEXT, 'cache-control': 'no-store' });
    });
  }
}
