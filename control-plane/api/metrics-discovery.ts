// Discovery for metrics.k8s.io/v1beta1, the read-only group metrics-server serves: kubectl top
// looks for it in /apis before it asks for NodeMetrics and PodMetrics.
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
export const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

const resources = [
  { name: 'nodes', kind: 'NodeMetrics', namespaced: false },
  { name: 'pods', kind: 'PodMetrics', namespaced: true },
] as const;
const VERBS = ['get', 'list'];

/** The group as an APIGroupList entry (and, with kind/apiVersion, as /apis/metrics.k8s.io). */
export function metricsApiGroup() {
  const version = { groupVersion: METRICS_API_VERSION, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [version], preferredVersion: version };
}

export function metricsApiResourceList() {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: METRICS_API_VERSION,
    resources: resources.map((r) => ({ name: r.name, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: VERBS })),
  };
}

/** The group's item of the aggregated discovery document (apidiscovery.k8s.io/v2). */
export function metricsAggregatedDiscoveryItem() {
  return {
    metadata: { name: METRICS_GROUP, creationTimestamp: null },
    versions: [{
      version: METRICS_VERSION,
      resources: resources.map((r) => ({
        resource: r.name,
        responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.name === 'nodes' ? 'node' : 'pod',
        verbs: VERBS,
      })),
      freshness: 'Current',
    }],
  };
}
