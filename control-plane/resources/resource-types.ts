// The resource kinds skiff serves: names, scope, verbs and discovery metadata, as Kubernetes lists them.

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories: string[];
  /** Subresources served under `<plural>/<name>/<subresource>` (e.g. "status", "log", "binding"). */
  subresources: string[];
  listKind: string;
  /** "v1" for the core group, else "group/version". */
  apiVersion: string;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function define(t: Omit<ResourceType, 'listKind' | 'apiVersion' | 'verbs' | 'shortNames' | 'categories' | 'subresources'> &
  Partial<Pick<ResourceType, 'verbs' | 'shortNames' | 'categories' | 'subresources'>>): ResourceType {
  return {
    verbs: allVerbs,
    shortNames: [],
    categories: [],
    subresources: [],
    ...t,
    listKind: `${t.kind}List`,
    apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
  };
}

export const resourceTypes = {
  pods: define({
    group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true,
    shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'binding'],
  }),
  nodes: define({
    group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false,
    shortNames: ['no'], subresources: ['status'],
  }),
  namespaces: define({
    group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    shortNames: ['ns'], subresources: ['status', 'finalize'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  }),
  events: define({
    group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true,
    shortNames: ['ev'],
  }),
  leases: define({
    group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true,
  }),
} satisfies Record<string, ResourceType>;

export const allResourceTypes: readonly ResourceType[] = Object.values(resourceTypes);

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return allResourceTypes.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** Whether writes to the main resource leave `status` alone (it then has a status subresource). */
export const hasStatusSubresource = (type: ResourceType): boolean => type.subresources.includes('status');

/** Group/versions served, core first, in discovery order. */
export function servedGroupVersions(): Array<{ group: string; version: string; types: ResourceType[] }> {
  const out: Array<{ group: string; version: string; types: ResourceType[] }> = [];
  for (const t of allResourceTypes) {
    let gv = out.find((g) => g.group === t.group && g.version === t.version);
    if (!gv) out.push((gv = { group: t.group, version: t.version, types: [] }));
    gv.types.push(t);
  }
  return out;
}
