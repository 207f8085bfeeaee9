// Validation entry points per kind: create checks the whole object, update adds immutability rules.
import { ValidationError, type StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import {
  validateConfigMap, validateConfigUpdate, validateHorizontalPodAutoscaler, validatePersistentVolume,
  validatePersistentVolumeClaim, validatePersistentVolumeClaimUpdate, validateSecret,
} from './config-validation.js';
import { validateCronJob } from './cronjob-validation.js';
import { forbidden, required } from './field-causes.js';
import type { PersistentVolumeClaim } from './kinds/config.js';
import type { Service } from './kinds/services.js';
import { validateMetadata } from './metadata-validation.js';
import { validateIngress, validateIngressClass, validateIngressClassUpdate, validateNetworkPolicy } from './networking-validation.js';
import { validateLimitRange, validatePodDisruptionBudget, validateResourceQuota } from './policy-validation.js';
import { validatePodUpdate } from './pod-update-validation.js';
import type { PriorityClass } from './kinds/scheduling.js';
import { validatePriorityClass, validatePriorityClassUpdate } from './priority-admission.js';
import { validateReplicationController } from './replication-controllers.js';
import { validatePod } from './pod-validation.js';
import type { ResourceType } from './resource-types.js';
import {
  validateBindingUpdate, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding,
} from './rbac-validation.js';
import { validateEndpointSlice, validateEndpoints, validateService, validateServiceUpdate } from './service-validation.js';
import type { StatefulSet } from './kinds/statefulsets.js';
import type { StorageClass } from './kinds/storage.js';
import { validateStatefulSet, validateStatefulSetUpdate } from './statefulset-validation.js';
import { validateStorageClass, validateStorageClassUpdate } from './storage-validation.js';
import {
  validateControllerRevision, validateDaemonSet, validateDeployment, validateJob, validateReplicaSet, validateWorkloadUpdate,
} from './workload-validation.js';

type Validator = (obj: never) => StatusCause[];

const validators: Record<string, Validator> = {
  pods: validatePod,
  events: (obj: KubeObject) => (obj['involvedObject'] && typeof obj['involvedObject'] === 'object' ? [] : [required('involvedObject')]),
  deployments: validateDeployment,
  replicasets: validateReplicaSet,
  replicationcontrollers: validateReplicationController,
  daemonsets: validateDaemonSet,
  statefulsets: validateStatefulSet,
  jobs: validateJob,
  cronjobs: validateCronJob,
  resourcequotas: validateResourceQuota,
  limitranges: validateLimitRange,
  poddisruptionbudgets: validatePodDisruptionBudget,
  priorityclasses: validatePriorityClass,
  controllerrevisions: validateControllerRevision,
  services: validateService,
  endpoints: validateEndpoints,
  endpointslices: validateEndpointSlice,
  configmaps: validateConfigMap,
  secrets: validateSecret,
  persistentvolumes: validatePersistentVolume,
  persistentvolumeclaims: validatePersistentVolumeClaim,
  horizontalpodautoscalers: validateHorizontalPodAutoscaler,
  ingresses: validateIngress,
  ingressclasses: validateIngressClass,
  networkpolicies: validateNetworkPolicy,
  storageclasses: validateStorageClass,
  roles: validateRole,
  clusterroles: validateClusterRole,
  rolebindings: validateRoleBinding,
  clusterrolebindings: validateClusterRoleBinding,
};

export function validateCreate(type: ResourceType, obj: KubeObject): void {
  throwIfAny(type, obj, [...validateMetadata(type, obj.metadata), ...validateKind(type, obj)]);
}

export function validateUpdate(type: ResourceType, oldObj: KubeObject, newObj: KubeObject): void {
  const causes = [...validateMetadata(type, newObj.metadata), ...validateKind(type, newObj), ...validateKindUpdate(type, oldObj, newObj)];
  if (oldObj.metadata.deletionTimestamp && (newObj.metadata.finalizers ?? []).some((f) => !(oldObj.metadata.finalizers ?? []).includes(f))) {
    causes.push(forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'));
  }
  throwIfAny(type, newObj, causes);
}

function validateKind(type: ResourceType, obj: KubeObject): StatusCause[] {
  return (validators[type.plural] as ((o: KubeObject) => StatusCause[]) | undefined)?.(obj) ?? [];
}

function validateKindUpdate(type: ResourceType, oldObj: KubeObject, newObj: KubeObject): StatusCause[] {
  switch (type.plural) {
    case 'pods': return validatePodUpdate(oldObj as Pod, newObj as Pod);
    case 'deployments': case 'replicasets': case 'daemonsets': case 'jobs':
      return validateWorkloadUpdate(type.plural, oldObj, newObj);
    case 'statefulsets': return validateStatefulSetUpdate(oldObj as StatefulSet, newObj as StatefulSet);
    case 'services': return validateServiceUpdate(oldObj as Service, newObj as Service);
    case 'configmaps': case 'secrets': return validateConfigUpdate(type.plural, oldObj, newObj);
    case 'persistentvolumeclaims': return validatePersistentVolumeClaimUpdate(oldObj as PersistentVolumeClaim, newObj as PersistentVolumeClaim);
    case 'ingressclasses': return validateIngressClassUpdate(oldObj, newObj);
    case 'priorityclasses': return validatePriorityClassUpdate(oldObj as PriorityClass, newObj as PriorityClass);
    case 'storageclasses': return validateStorageClassUpdate(oldObj as StorageClass, newObj as StorageClass);
    case 'rolebindings': case 'clusterrolebindings': return validateBindingUpdate(oldObj, newObj);
    default: return [];
  }
}

function throwIfAny(type: ResourceType, obj: KubeObject, causes: StatusCause[]): void {
  if (causes.length === 0) return;
  throw new ValidationError({ group: type.group || undefined, kind: type.kind, name: obj.metadata?.name }, causes);
}
