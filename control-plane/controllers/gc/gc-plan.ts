// Pure garbage-collection decisions for one object, from its owner references and what is known
// of its owners and dependents (Background, Foreground and Orphan propagation as Kubernetes does it).
import type { KubeObject, OwnerReference } from '../../../api/types/meta.js';

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export type OwnerState = 'present' | 'absent' | 'deletingForeground';

export type GcAction =
  | { action: 'none' }
  /** every owner is gone: delete the object (its own dependents follow in the background) */
  | { action: 'delete' }
  /** some owners are gone: drop those references */
  | { action: 'dropOwners'; uids: string[] }
  /** the object is being deleted with Orphan: release dependents, then drop the finalizer */
  | { action: 'orphanDependents'; dependents: string[] }
  /** the object is being deleted in the foreground: delete dependents, drop the finalizer when none is left */
  | { action: 'deleteDependents'; dependents: string[] }
  | { action: 'removeFinalizer'; finalizer: string };

/** `owners`: state of each ownerReference (by uid). `dependents`: keys of objects that reference this one. */
export function planGarbageCollection(obj: KubeObject, owners: ReadonlyMap<string, OwnerState>, dependents: readonly string[]): GcAction {
  const finalizers = obj.metadata.finalizers ?? [];
  if (obj.metadata.deletionTimestamp) {
    if (finalizers.includes(ORPHAN)) {
      return dependents.length ? { action: 'orphanDependents', dependents: [...dependents] } : { action: 'removeFinalizer', finalizer: ORPHAN };
    }
    if (finalizers.includes(FOREGROUND)) {
      return dependents.length ? { action: 'deleteDependents', dependents: [...dependents] } : { action: 'removeFinalizer', finalizer: FOREGROUND };
    }
    return { action: 'none' };
  }
  const refs: OwnerReference[] = obj.metadata.ownerReferences ?? [];
  if (refs.length === 0) return { action: 'none' };
  const absent = refs.filter((r) => owners.get(r.uid) === 'absent').map((r) => r.uid);
  const foreground = refs.some((r) => owners.get(r.uid) === 'deletingForeground');
  if (absent.length === refs.length) return { action: 'delete' };
  // an owner deleted in the foreground takes its dependents with it
  if (foreground && refs.every((r) => owners.get(r.uid) !== 'present')) return { action: 'delete' };
  if (absent.length) return { action: 'dropOwners', uids: absent };
  return { action: 'none' };
}
