// Owner references as controllers use them: who controls an object, and the reference to set on children.
import type { KubeObject, OwnerReference } from '../../api/types/meta.js';

export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

export const isControlledBy = (obj: KubeObject, owner: KubeObject): boolean =>
  controllerRefOf(obj)?.uid === owner.metadata.uid;

/** The reference a controller puts on what it creates (blocks the owner's foreground deletion). */
export function newControllerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export const objectKeyOf = (obj: KubeObject): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
