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
  /** Set when objects are stored in another version of the same group (then converted on the way in and out). */
  storageVersion?: string;
}

type Extras = Partial<Pick<ResourceType, 'verbs' | 'shortNames' | 'categories' | 'subresources'>>;
const core = (plural: string, singular: string, kind: string, extras: Extras) =>
  define({ group: '', version: 'v1', plural, singular, kind, namespaced: true, ...extras });
const apps = (plural: string, singular: string, kind: string, extras: Extras) =>
  define({ group: 'apps', version: 'v1', plural, singular, kind, namespaced: true, ...extras });
const networking = (plural: string, singular: string, kind: string, extras: Extras) =>
  define({ group: 'networking.k8s.io', version: 'v1', plural, singular, kind, namespaced: true, ...extras });

const rbac = (plural: string, singular: string, kind: string, namespaced: boolean) =>
  define({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, singular, kind, namespaced });

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function define(t: Omit<ResourceType, 'listKind' | 'apiVersion' | 'verbs' | 'shortNames' | 'categories' | 'subresources'> &
  Extras): ResourceType {
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
    shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'binding', 'eviction', 'exec', 'attach', 'portforward'],
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
  services: core('services', 'service', 'Service', { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  endpoints: core('endpoints', 'endpoints', 'Endpoints', { shortNames: ['ep'] }),
  configmaps: core('configmaps', 'configmap', 'ConfigMap', { shortNames: ['cm'] }),
  secrets: core('secrets', 'secret', 'Secret', {}),
  serviceaccounts: core('serviceaccounts', 'serviceaccount', 'ServiceAccount', { shortNames: ['sa'], subresources: ['token'] }),
  resourcequotas: core('resourcequotas', 'resourcequota', 'ResourceQuota', { shortNames: ['quota'], subresources: ['status'] }),
  limitranges: core('limitranges', 'limitrange', 'LimitRange', { shortNames: ['limits'] }),
  replicationcontrollers: core('replicationcontrollers', 'replicationcontroller', 'ReplicationController', { shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'] }),
  persistentvolumes: define({
    group: '', version: 'v1', plural: 'persistentvolumes', singular: 'persistentvolume', kind: 'PersistentVolume', namespaced: false,
    shortNames: ['pv'], subresources: ['status'],
  }),
  persistentvolumeclaims: core('persistentvolumeclaims', 'persistentvolumeclaim', 'PersistentVolumeClaim', { shortNames: ['pvc'], subresources: ['status'] }),
  deployments: apps('deployments', 'deployment', 'Deployment', { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  replicasets: apps('replicasets', 'replicaset', 'ReplicaSet', { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  daemonsets: apps('daemonsets', 'daemonset', 'DaemonSet', { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  statefulsets: apps('statefulsets', 'statefulset', 'StatefulSet', { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  controllerrevisions: apps('controllerrevisions', 'controllerrevision', 'ControllerRevision', {}),
  jobs: define({
    group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', kind: 'Job', namespaced: true,
    categories: ['all'], subresources: ['status'],
  }),
  cronjobs: define({
    group: 'batch', version: 'v1', plural: 'cronjobs', singular: 'cronjob', kind: 'CronJob', namespaced: true,
    shortNames: ['cj'], categories: ['all'], subresources: ['status'],
  }),
  poddisruptionbudgets: define({
    group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true,
    shortNames: ['pdb'], subresources: ['status'],
  }),
  priorityclasses: define({
    group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass', namespaced: false,
    shortNames: ['pc'],
  }),
  horizontalpodautoscalers: define({
    group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler',
    kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'],
  }),
  ingresses: networking('ingresses', 'ingress', 'Ingress', { shortNames: ['ing'], subresources: ['status'] }),
  ingressclasses: { ...networking('ingressclasses', 'ingressclass', 'IngressClass', {}), namespaced: false },
  networkpolicies: networking('networkpolicies', 'networkpolicy', 'NetworkPolicy', { shortNames: ['netpol'] }),
  endpointslices: define({
    group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true,
  }),
  storageclasses: define({
    group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', singular: 'storageclass', kind: 'StorageClass', namespaced: false,
    shortNames: ['sc'],
  }),
  roles: rbac('roles', 'role', 'Role', true),
  rolebindings: rbac('rolebindings', 'rolebinding', 'RoleBinding', true),
  clusterroles: rbac('clusterroles', 'clusterrole', 'ClusterRole', false),
  clusterrolebindings: rbac('clusterrolebindings', 'clusterrolebinding', 'ClusterRoleBinding', false),
} satisfies Record<string, ResourceType>;

/**
 * autoscaling/v1 HorizontalPodAutoscaler: the same stored objects as resourceTypes.horizontalpodautoscalers
 * (autoscaling/v2 is the storage version), converted on the way in and out.
 */
export const horizontalPodAutoscalersV1: ResourceType = { ...resourceTypes.horizontalpodautoscalers, version: 'v1', apiVersion: 'autoscaling/v1', storageVersion: 'v2' };

export const allResourceTypes: readonly ResourceType[] = [...Object.values(resourceTypes), horizontalPodAutoscalersV1];

/**
 * Create-only kinds that are answered, never stored (access reviews, whoami): served in discovery
 * and OpenAPI, handled by control-plane/api/review-routes.ts, absent from allResourceTypes (so no
 * store, controller or generic route sees them).
 */
const review = (group: string, plural: string, singular: string, kind: string, namespaced = false): ResourceType =>
  ({ ...define({ group, version: 'v1', plural, singular, kind, namespaced }), verbs: ['create'] });
export const reviewTypes = {
  selfsubjectaccessreviews: review('authorization.k8s.io', 'selfsubjectaccessreviews', 'selfsubjectaccessreview', 'SelfSubjectAccessReview'),
  selfsubjectrulesreviews: review('authorization.k8s.io', 'selfsubjectrulesreviews', 'selfsubjectrulesreview', 'SelfSubjectRulesReview'),
  subjectaccessreviews: review('authorization.k8s.io', 'subjectaccessreviews', 'subjectaccessreview', 'SubjectAccessReview'),
  localsubjectaccessreviews: review('authorization.k8s.io', 'localsubjectaccessreviews', 'localsubjectaccessreview', 'LocalSubjectAccessReview', true),
  selfsubjectreviews: review('authentication.k8s.io', 'selfsubjectreviews', 'selfsubjectreview', 'SelfSubjectReview'),
} satisfies Record<string, ResourceType>;

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return allResourceTypes.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** Whether writes to the main resource leave `status` alone (it then has a status subresource). */
export const hasStatusSubresource = (type: ResourceType): boolean => type.subresources.includes('status');

/** Group/versions served, core first, in discovery order. */
export function servedGroupVersions(): Array<{ group: string; version: string; types: ResourceType[] }> {
  const out: Array<{ group: string; version: string; types: ResourceType[] }> = [];
  for (const t of [...allResourceTypes, ...Object.values(reviewTypes)]) {
    let gv = out.find((g) => g.group === t.group && g.version === t.version);
    if (!gv) out.push((gv = { group: t.group, version: t.version, types: [] }));
    gv.types.push(t);
  }
  return out;
}
