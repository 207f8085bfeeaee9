// Prometheus endpoints: GET /metrics (the control plane's own), and GET
// /api/v1/nodes/{name}/proxy/metrics (an agent's, fetched over the node channel, so Prometheus
// reaches devices behind NAT through the API server as it reaches kubelets). Who may read them is
// the authorizers' call: the admin, and the monitoring identity (authorization/monitoring-authorizer.ts).
import type { Hono } from 'hono';
import { NotFoundError } from '../../api/errors.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

/** What GET /metrics serves (control-plane/metrics/control-plane-metrics.ts). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Fetches one agent's metrics in the Prometheus text format (over the node channel). */
export interface NodeMetricsScraper {
  scrape(node: string, signal: AbortSignal): Promise<string>;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusRouteOptions {
  metrics?: MetricsSource | undefined;
  nodeMetrics?: NodeMetricsScraper | undefined;
  resources: ResourceStore;
}

export function registerPrometheusRoutes(app: Hono, options: PrometheusRouteOptions): void {
  const { metrics, nodeMetrics, resources } = options;
  if (metrics) {
    app.get('/metrics', async (c) => {
      return c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    });
  }
  if (nodeMetrics) {
    app.get('/api/v1/nodes/:name/proxy/metrics', async (c) => {
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
