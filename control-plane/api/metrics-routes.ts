// GET metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, as metrics-server serves them, from the
// usage agents report (control-plane/metrics/node-metrics-store.ts): what `kubectl top` reads.
// Objects come from the store, so label and field selectors work and deleted pods drop out.
import type { Context, Hono } from 'hono';
import { rfc3339 } from '../../api/clock.js';
import { NotFoundError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import type { MetricsReader, Sample, Usage } from '../metrics/node-metrics-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { ApiDeps } from './api-deps.js';
import { METRICS_API_VERSION, METRICS_GROUP } from './metrics-discovery.js';

const BASE = `/apis/${METRICS_API_VERSION}`;

/** `metrics` absent: the group is served, but nothing has metrics. */
export function registerMetricsRoutes(app: Hono, deps: Pick<ApiDeps, 'resources' | 'clock'>, metrics: MetricsReader | undefined): void {
  const nodeMetrics = (node: Node) => {
    const sample = metrics?.node(node.metadata.name!);
    return sample && { kind: 'NodeMetrics', apiVersion: METRICS_API_VERSION, metadata: metadataOf(node, deps.clock.now()), ...window(sample), usage: quantities(sample.usage) };
  };
  const podMetrics = (pod: Pod) => {
    const sample = pod.metadata.uid ? metrics?.pod(pod.metadata.uid) : undefined;
    return sample && {
      kind: 'PodMetrics', apiVersion: METRICS_API_VERSION, metadata: metadataOf(pod, deps.clock.now()), ...window(sample),
      containers: sample.containers.map((c) => ({ name: c.name, usage: quantities(c) })),
    };
  };
  const selectors = (c: Context) => ({
    ...(c.req.query('labelSelector') ? { labelSelector: c.req.query('labelSelector')! } : {}),
    ...(c.req.query('fieldSelector') ? { fieldSelector: c.req.query('fieldSelector')! } : {}),
  });
  const listPods = async (c: Context, namespace: string | undefined) => {
    const pods = await deps.resources.list<Pod>(resourceTypes.pods, { ...(namespace ? { namespace } : {}), ...selectors(c) });
    return c.json(list('PodMetricsList', pods.items.map(podMetrics)));
  };

  app.get(`${BASE}/nodes`, async (c) => {
    const nodes = await deps.resources.list<Node>(resourceTypes.nodes, selectors(c));
    return c.json(list('NodeMetricsList', nodes.items.map(nodeMetrics)));
  });
  app.get(`${BASE}/nodes/:name`, async (c) => {
    const name = c.req.param('name');
    const missing = notFound('nodemetrics', name);
    const found = nodeMetrics(await deps.resources.get<Node>(resourceTypes.nodes, undefined, name).catch(asMissing(missing)));
    return c.json(found ?? missing());
  });
  app.get(`${BASE}/pods`, (c) => listPods(c, undefined));
  app.get(`${BASE}/namespaces/:namespace/pods`, (c) => listPods(c, c.req.param('namespace')));
  app.get(`${BASE}/namespaces/:namespace/pods/:name`, async (c) => {
    const { namespace, name } = c.req.param();
    const missing = notFound('podmetrics', `${namespace}/${name}`);
    const found = podMetrics(await deps.resources.get<Pod>(resourceTypes.pods, namespace, name).catch(asMissing(missing)));
    return c.json(found ?? missing());
  });
}

function list(kind: string, items: Array<object | undefined>) {
  return { kind, apiVersion: METRICS_API_VERSION, metadata: {}, items: items.filter((i) => i !== undefined) };
}

/** metrics-server copies name, namespace and labels; creationTimestamp is the time of the answer. */
function metadataOf(obj: KubeObject, nowMs: number) {
  const { name, namespace, labels } = obj.metadata;
  return { name, ...(namespace ? { namespace } : {}), creationTimestamp: rfc3339(nowMs), ...(labels ? { labels } : {}) };
}

/** `window` is a Go duration ("15s"), as metav1.Duration encodes it. */
function window(sample: Sample) {
  return { timestamp: rfc3339(sample.timestampMs), window: `${sample.windowMs / 1000}s` };
}

/** metrics-server's units: CPU in nanocores, memory in KiB. */
export function quantities(usage: Usage): { cpu: string; memory: string } {
  return {
    cpu: `${Math.max(0, Math.round(usage.cpuMillicores * 1e6))}n`,
    memory: `${Math.max(0, Math.round((usage.memoryBytes ?? 0) / 1024))}Ki`,
  };
}

/** metrics-server's wording: `podmetrics.metrics.k8s.io "default/web" not found`. */
const notFound = (resource: string, name: string) => (): never => {
  throw new NotFoundError({ group: METRICS_GROUP, kind: resource, name });
};

const asMissing = (missing: () => never) => (error: unknown): never => {
  if (error instanceof NotFoundError) missing();
  throw error;
};
