// How each list of the served kinds merges, as the Kubernetes API types declare it in their struct
// tags and markers (k8s.io/api v0.32 core/v1, apps/v1, batch/v1, policy/v1, autoscaling/v2 and
// k8s.io/apimachinery meta/v1 types.go: `patchStrategy:"merge" patchMergeKey:"name"` and
// `+listType=map` / `+listMapKey=...` / `+listType=set`). The real server publishes them as
// x-kubernetes-patch-strategy / -patch-merge-key (strategic merge patch, kubectl's client-side apply)
// and x-kubernetes-list-type / -list-map-keys (server-side apply's structured merge). Lists not in the
// table are atomic (structured-merge-diff's default), and each of them is listed as such in
// atomic-fields.ts. test/control-plane/schema/list-types.test.ts checks every entry against the kind
// schemas (an array of the right items) and walks every served kind: an array or map field with no
// decision in either table fails it.
import { ATOMIC_MAP_FIELDS, ATOMIC_STRUCT_MODELS } from './atomic-fields.js';

export type ListType = 'atomic' | 'set' | 'map';

export interface ListSemantics {
  listType: ListType;
  /** list-map keys, in the order the real schema lists them */
  keys?: readonly string[];
  /** defaults of key fields an item may leave out (structured-merge-diff fills them to find the item) */
  keyDefaults?: Readonly<Record<string, string | number>>;
  /** strategic merge patch: 'merge' or 'merge,retainKeys'; absent means replace */
  patchStrategy?: 'merge' | 'merge,retainKeys';
  patchMergeKey?: string;
}

const map = (keys: string[], patchStrategy?: ListSemantics['patchStrategy'], keyDefaults?: ListSemantics['keyDefaults']): ListSemantics => ({
  listType: 'map', keys, ...(keyDefaults ? { keyDefaults } : {}), ...(patchStrategy ? { patchStrategy, patchMergeKey: keys[0]! } : {}),
});
const SET_MERGE: ListSemantics = { listType: 'set', patchStrategy: 'merge' };
const SET: ListSemantics = { listType: 'set' };
const CONDITIONS = map(['type'], 'merge');
const CONTAINER_LISTS = {
  ports: map(['containerPort', 'protocol'], 'merge', { protocol: 'TCP' }),
  env: map(['name'], 'merge'),
  volumeMounts: map(['mountPath'], 'merge'),
  volumeDevices: map(['devicePath'], 'merge'),
};

/** "Model.field" (client-node model names, as in kube-schemas.json) -> semantics. */
export const LIST_SEMANTICS: Readonly<Record<string, ListSemantics>> = {
  // meta/v1
  'V1ObjectMeta.finalizers': SET_MERGE,
  'V1ObjectMeta.ownerReferences': map(['uid'], 'merge'),
  // core/v1 PodSpec, Container, EphemeralContainer
  'V1PodSpec.volumes': map(['name'], 'merge,retainKeys'),
  'V1PodSpec.initContainers': map(['name'], 'merge'),
  'V1PodSpec.containers': map(['name'], 'merge'),
  'V1PodSpec.ephemeralContainers': map(['name'], 'merge'),
  'V1PodSpec.imagePullSecrets': map(['name'], 'merge'),
  'V1PodSpec.hostAliases': map(['ip'], 'merge'),
  'V1PodSpec.topologySpreadConstraints': map(['topologyKey', 'whenUnsatisfiable'], 'merge'),
  'V1PodSpec.resourceClaims': map(['name'], 'merge,retainKeys'),
  'V1PodSpec.schedulingGates': map(['name'], 'merge'),
  ...Object.fromEntries(Object.entries(CONTAINER_LISTS).flatMap(([f, s]) => [[`V1Container.${f}`, s], [`V1EphemeralContainer.${f}`, s]])),
  'V1ResourceRequirements.claims': map(['name']),
  'V1ContainerRestartRuleOnExitCodes.values': SET,
  // core/v1 status
  'V1PodStatus.conditions': CONDITIONS,
  'V1PodStatus.podIPs': map(['ip'], 'merge'),
  'V1PodStatus.hostIPs': { listType: 'atomic', patchStrategy: 'merge', patchMergeKey: 'ip' },
  'V1PodStatus.resourceClaimStatuses': map(['name'], 'merge,retainKeys'),
  'V1ContainerStatus.volumeMounts': map(['mountPath'], 'merge'),
  'V1ContainerStatus.allocatedResourcesStatus': map(['name'], 'merge'),
  'V1ResourceStatus.resources': map(['resourceID']),
  'V1NodeStatus.conditions': CONDITIONS,
  'V1NodeStatus.addresses': map(['type'], 'merge'),
  'V1NamespaceStatus.conditions': CONDITIONS,
  'V1PersistentVolumeClaimStatus.conditions': CONDITIONS,
  'V1ReplicationControllerStatus.conditions': CONDITIONS,
  'V1ServiceStatus.conditions': CONDITIONS,
  // core/v1 other kinds
  'V1ServiceSpec.ports': map(['port', 'protocol'], 'merge', { protocol: 'TCP' }),
  'V1NodeSpec.podCIDRs': SET_MERGE,
  'V1ServiceAccount.secrets': map(['name'], 'merge'),
  // discovery/v1, batch/v1
  'V1Endpoint.addresses': SET,
  'V1UncountedTerminatedPods.failed': SET,
  'V1UncountedTerminatedPods.succeeded': SET,
  'V1JobStatus.conditions': { listType: 'atomic', patchStrategy: 'merge', patchMergeKey: 'type' },
  'V1PodFailurePolicyOnExitCodesRequirement.values': SET,
  // apps/v1, policy/v1, autoscaling/v2
  'V1DeploymentStatus.conditions': CONDITIONS,
  'V1ReplicaSetStatus.conditions': CONDITIONS,
  'V1StatefulSetStatus.conditions': CONDITIONS,
  'V1DaemonSetStatus.conditions': CONDITIONS,
  'V1PodDisruptionBudgetStatus.conditions': CONDITIONS,
  'V2HorizontalPodAutoscalerStatus.conditions': CONDITIONS,
};

const ATOMIC: ListSemantics = { listType: 'atomic' };

/** How the list `field` of definition `model` merges (atomic when the types declare nothing). */
export const listSemantics = (model: string, field: string): ListSemantics => LIST_SEMANTICS[`${model}.${field}`] ?? ATOMIC;

/** Structs owned as a whole (`+structType=atomic`): label selectors, and the references the types mark so. */
export const ATOMIC_MAP_MODELS: ReadonlySet<string> = ATOMIC_STRUCT_MODELS;

/** Whether field `field` of definition `model` is owned whole: an atomic struct, or a map marked `+mapType=atomic`. */
export const isAtomicMapField = (model: string | undefined, field: string, fieldModel: string | undefined): boolean =>
  (fieldModel !== undefined && ATOMIC_STRUCT_MODELS.has(fieldModel)) || (model !== undefined && ATOMIC_MAP_FIELDS.has(`${model}.${field}`));

/** Every key default of the table by key field name (only `protocol: TCP` today), to find items whose config leaves the key out. */
export const KEY_DEFAULTS: Readonly<Record<string, string | number>> = Object.assign({}, ...Object.values(LIST_SEMANTICS).map((s) => s.keyDefaults ?? {}));
