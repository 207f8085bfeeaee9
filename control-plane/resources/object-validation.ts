// Validation entry points per kind: create checks the whole object, update adds immutability rules.
import { ValidationError, type StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import { forbidden, required } from './field-causes.js';
import { validateMetadata } from './metadata-validation.js';
import { validatePodUpdate } from './pod-update-validation.js';
import { validatePod } from './pod-validation.js';
import type { ResourceType } from './resource-types.js';

export function validateCreate(type: ResourceType, obj: KubeObject): void {
  throwIfAny(type, obj, [...validateMetadata(type, obj.metadata), ...validateKind(type, obj)]);
}

export function validateUpdate(type: ResourceType, oldObj: KubeObject, newObj: KubeObject): void {
  const causes = [...validateMetadata(type, newObj.metadata), ...validateKind(type, newObj)];
  if (type.plural === 'pods') causes.push(...validatePodUpdate(oldObj as Pod, newObj as Pod));
  if (oldObj.metadata.deletionTimestamp && (newObj.metadata.finalizers ?? []).some((f) => !(oldObj.metadata.finalizers ?? []).includes(f))) {
    causes.push(forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'));
  }
  throwIfAny(type, newObj, causes);
}

function validateKind(type: ResourceType, obj: KubeObject): StatusCause[] {
  switch (type.plural) {
    case 'pods':
      return validatePod(obj as Pod);
    case 'events':
      return obj['involvedObject'] && typeof obj['involvedObject'] === 'object' ? [] : [required('involvedObject')];
    default:
      return [];
  }
}

function throwIfAny(type: ResourceType, obj: KubeObject, causes: StatusCause[]): void {
  if (causes.length === 0) return;
  throw new ValidationError({ group: type.group || undefined, kind: type.kind, name: obj.metadata?.name }, causes);
}
