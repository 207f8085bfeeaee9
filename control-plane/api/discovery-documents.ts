// Discovery documents: legacy (APIVersions, APIGroupList, APIResourceList) and aggregated (apidiscovery v2).
import { servedGroupVersions, type ResourceType } from '../resources/resource-types.js';
import { METRICS_GROUP, metricsAggregatedDiscoveryItem, metricsApiGroup, metricsApiResourceList, METRICS_VERSION } from './metrics-discovery.js';

interface SubresourceInfo {
  kind: (type: ResourceType) => { group: string; version: string; kind: string };
  verbs: string[];
}

const same = (t: ResourceType) => ({ group: t.group, version: t.version, kind: t.kind });
const subresourceInfo: Record<string, SubresourceInfo> = {
  status: { kind: same, verbs: ['get', 'patch', 'update'] },
  log: { kind: same, verbs: ['get'] },
  binding: { kind: () => ({ group: '', version: 'v1', kind: 'Binding' }), verbs: ['create'] },
  finalize: { kind: same, verbs: ['update'] },
  scale: { kind: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale' }), verbs: ['get', 'patch', 'update'] },
  eviction: { kind: () => ({ group: 'policy', version: 'v1', kind: 'Eviction' }), verbs: ['create'] },
  exec: { kind: () => ({ group: '', version: 'v1', kind: 'PodExecOptions' }), verbs: ['create', 'get'] },
  token: { kind: () => ({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }), verbs: ['create'] },
  attach: { kind: () => ({ group: '', version: 'v1', kind: 'PodAttachOptions' }), verbs: ['create', 'get'] },
  portforward: { kind: () => ({ group: '', version: 'v1', kind: 'PodPortForwardOptions' }), verbs: ['create', 'get'] },
  proxy: { kind: () => ({ group: '', version: 'v1', kind: 'PodProxyOptions' }), verbs: ['create', 'delete', 'get', 'patch', 'update'] },
};

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

export function apiGroupList() {
  const groups = new Map<string, string[]>();
  for (const gv of servedGroupVersions()) {
    if (gv.group === '') continue;
    groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...[...groups].map(([g, v]) => apiGroup(g, v)), metricsApiGroup()] };
}

export function apiGroupDocument(group: string) {
  if (group === METRICS_GROUP) return { kind: 'APIGroup', apiVersion: 'v1', ...metricsApiGroup() };
  const versions = servedGroupVersions().filter((gv) => gv.group === group).map((gv) => gv.version);
  return versions.length ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) } : undefined;
}

export function apiResourceList(group: string, version: string) {
  if (group === METRICS_GROUP && version === METRICS_VERSION) return metricsApiResourceList();
  const gv = servedGroupVersions().find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  const resources: unknown[] = [];
  for (const t of gv.types) {
    resources.push({
      name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    });
    for (const sub of t.subresources) {
      const info = subresourceInfo[sub];
      if (!info) continue;
      const k = info.kind(t);
      resources.push({ name: `${t.plural}/${sub}`, singularName: '', namespaced: t.namespaced, ...(k.group !== t.group ? { group: k.group, version: k.version } : {}), kind: k.kind, verbs: info.verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export const aggregatedDiscoveryContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** `core` true: the document for /api (the legacy core group); false: for /apis. */
export function aggregatedDiscovery(core: boolean) {
  const byGroup = new Map<string, Array<{ version: string; types: ResourceType[] }>>();
  for (const gv of servedGroupVersions()) {
    if ((gv.group === '') !== core) continue;
    byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), { version: gv.version, types: gv.types }]);
  }
  const items = [...byGroup].map(([group, versions]) => ({
    metadata: { name: group, creationTimestamp: null },
    versions: versions.map((v) => ({ version: v.version, resources: v.types.map(discoveryResource), freshness: 'Current' })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: core ? items : [...items, metricsAggregatedDiscoveryItem()] };
}

function discoveryResource(t: ResourceType) {
  return {
    resource: t.plural,
    responseKind: same(t),
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
    subresources: t.subresources.filter((s) => subresourceInfo[s]).map((s) => {
      const info = subresourceInfo[s]!;
      return { subresource: s, responseKind: info.kind(t), verbs: info.verbs };
    }),
  };
}
