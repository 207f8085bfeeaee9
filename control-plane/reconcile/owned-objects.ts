// What a controller reconciles against, from an informer's indexes instead of a namespace list:
// the objects it owns (owner UID index) and those its selector's matchLabels pick (label index),
// which it may adopt. The plan still decides with the full selector.
import type { KubeObject } from '../../api/types/meta.js';
import type { Informer } from './informer.js';

export interface SelectorLike {
  matchLabels?: Record<string, string>;
}

/** Objects owned by `ownerUid` (any owner reference) plus those of `namespace` carrying the selector's matchLabels. */
export function ownedOrMatching<T extends KubeObject>(informer: Informer<T>, namespace: string | undefined, ownerUid: string | undefined,
  selector: SelectorLike | undefined): T[] {
  const out = new Map<string, T>();
  if (ownerUid) for (const obj of informer.byIndex('owner', ownerUid)) out.set(obj.metadata.uid ?? obj.metadata.name!, obj);
  // no selector: nothing to adopt (a nil selector selects nothing)
  if (selector) for (const obj of informer.byLabels(namespace, selector.matchLabels)) out.set(obj.metadata.uid ?? obj.metadata.name!, obj);
  return byName([...out.values()]);
}

/**
 * The same set in no particular order, without building a map: for readers of thousands of children
 * whose plan does not depend on order (the ReplicaSet orders what it deletes itself).
 */
export function ownedOrMatchingUnordered<T extends KubeObject>(informer: Informer<T>, namespace: string | undefined, ownerUid: string | undefined,
  selector: SelectorLike | undefined): T[] {
  const out = ownerUid ? informer.byIndex('owner', ownerUid) : [];
  if (!selector) return out;
  for (const obj of informer.byLabels(namespace, selector.matchLabels)) {
    // those with an owner reference to ownerUid came from the owner index already
    if (!ownerUid || !obj.metadata.ownerReferences?.some((r) => r.uid === ownerUid)) out.push(obj);
  }
  return out;
}

/** In the order a list of the store gives (by name), so plans see what they saw before informers. */
export function byName<T extends KubeObject>(objects: T[]): T[] {
  return objects.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
}

/** Objects controlled by `ownerUid` (ownerReferences with controller: true). */
export function controlledBy<T extends KubeObject>(informer: Informer<T>, ownerUid: string | undefined): T[] {
  if (!ownerUid) return [];
  return byName(informer.byIndex('owner', ownerUid).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === ownerUid && r.controller === true)));
}
