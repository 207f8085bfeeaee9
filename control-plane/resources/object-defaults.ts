// Per-kind defaulting applied on create and update, before validation.
import type { KubeObject } from '../../api/types/meta.js';
import type { Namespace } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { defaultHorizontalPodAutoscaler, defaultPersistentVolume, defaultPersistentVolumeClaim, defaultSecret } from './config-defaults.js';
import { defaultPod, type DefaultTolerationSeconds } from './pod-defaults.js';
import { defaultLimitRange } from './policy-validation.js';
import { defaultPriorityClass } from './priority-admission.js';
import { defaultReplicationController } from './replication-controllers.js';
import type { ResourceType } from './resource-types.js';
import { defaultEndpointSlice, defaultEndpoints, defaultNetworkPolicy, defaultService } from './service-defaults.js';
import { defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet } from './workload-defaults.js';
import { defaultStorageClass } from './storage-validation.js';

type Defaulter = (obj: never) => void;

const defaulters: Record<string, Defaulter> = {
  namespaces: defaultNamespace,
  deployments: defaultDeployment,
  replicasets: defaultReplicaSet,
  replicationcontrollers: defaultReplicationController,
  daemonsets: defaultDaemonSet,
  statefulsets: defaultStatefulSet,
  jobs: defaultJob,
  cronjobs: defaultCronJob,
  limitranges: defaultLimitRange,
  priorityclasses: defaultPriorityClass,
  services: defaultService,
  endpoints: defaultEndpoints,
  endpointslices: defaultEndpointSlice,
  networkpolicies: defaultNetworkPolicy,
  secrets: defaultSecret,
  persistentvolumes: defaultPersistentVolume,
  persistentvolumeclaims: defaultPersistentVolumeClaim,
  horizontalpodautoscalers: defaultHorizontalPodAutoscaler,
  storageclasses: defaultStorageClass,
};

export interface DefaultingOptions {
  tolerationSeconds?: DefaultTolerationSeconds;
}

export function applyDefaults(type: ResourceType, obj: KubeObject, options: DefaultingOptions = {}): void {
  if (type.plural === 'pods') {
    defaultPod(obj as Pod, options.tolerationSeconds);
    return;
  }
  (defaulters[type.plural] as ((o: KubeObject) => void) | undefined)?.(obj);
}

function defaultNamespace(ns: Namespace): void {
  ns.spec ??= {};
  ns.spec.finalizers ??= ['kubernetes'];
  ns.status ??= {};
  ns.status.phase ??= 'Active';
  const name = ns.metadata.name;
  if (name) ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': name };
}
