// Decides whether a delete removes an object now or only marks it (graceful pod stop, finalizers).
import type { KubeObject } from '../../api/types/meta.js';
import type { Namespace } from '../../api/types/node.js';
import { isTerminalPhase, type Pod } from '../../api/types/pod.js';
import { rfc3339 } from '../../api/clock.js';
import { ConflictError } from '../../api/errors.js';
import type { ResourceType } from './resource-types.js';

export type DeletionPlan =
  | { action: 'remove' }
  | { action: 'unchanged' }
  | { action: 'mark'; object: KubeObject };

/** True when nothing (finalizer) still holds the object back once it is being deleted. */
export function isFinalized(type: ResourceType, obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return false;
  return type.plural !== 'namespaces' || ((obj as Namespace).spec?.finalizers ?? []).length === 0;
}

/** The finalizer that makes the garbage collector do a propagation policy's work before removal. */
const POLICY_FINALIZERS: Record<string, string> = { Foreground: 'foregroundDeletion', Orphan: 'orphan' };

export function planDeletion(
  type: ResourceType,
  current: KubeObject,
  gracePeriodSeconds: number | undefined,
  nowMs: number,
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan',
): DeletionPlan {
  const grace = type.plural === 'pods' ? podGraceSeconds(current as Pod, gracePeriodSeconds) : 0;
  // Foreground: dependents go first; Orphan: dependents are released. Either way the object stays,
  // marked, with the finalizer the garbage collector removes when that work is done.
  const finalizer = propagationPolicy ? POLICY_FINALIZERS[propagationPolicy] : undefined;
  const addFinalizer = finalizer !== undefined && !current.metadata.deletionTimestamp && !(current.metadata.finalizers ?? []).includes(finalizer);
  if (!addFinalizer && isFinalized(type, current) && grace === 0) return { action: 'remove' };
  const meta = current.metadata;
  if (meta.deletionTimestamp) {
    // A repeated delete may only shorten the grace period, as in Kubernetes.
    if (meta.deletionGracePeriodSeconds === undefined || grace >= meta.deletionGracePeriodSeconds) return { action: 'unchanged' };
  }
  const object = structuredClone(current);
  if (addFinalizer) object.metadata.finalizers = [...(object.metadata.finalizers ?? []), finalizer!];
  object.metadata.deletionTimestamp = rfc3339(nowMs + grace * 1000);
  object.metadata.deletionGracePeriodSeconds = grace;
  if (type.plural === 'namespaces') (object as Namespace).status = { ...(object as Namespace).status, phase: 'Terminating' };
  return { action: 'mark', object };
}

/** A bound, still-running pod gets a grace period for its node to stop it; others go at once. */
function podGraceSeconds(pod: Pod, requested: number | undefined): number {
  if (!pod.spec?.nodeName || isTerminalPhase(pod.status?.phase)) return 0;
  const grace = requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

/** A delete's preconditions (uid, resourceVersion) against the object as stored: 409 when they fail. */
export function checkPreconditions(type: ResourceType, obj: KubeObject, pre: { uid?: string; resourceVersion?: string } | undefined): void {
  const ref = { group: type.group || undefined, kind: type.plural, name: obj.metadata.name };
  if (pre?.uid && pre.uid !== obj.metadata.uid) {
    throw new ConflictError(ref, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw new ConflictError(ref, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`);
  }
}
