// The ReplicaSet controller's kept counts (decision 072): one OwnerCounts per ReplicaSet it has
// reconciled, fed by every pod event of the shared informer (which applies this process's own writes
// at once, so creates and deletes in flight are counted when they are made: read-your-writes in place
// of kube's expectations), and the namespace's orphans (pods with no controller) it may adopt. An
// owner is built from its pods (the owner-UID index: O(pods)) when first reconciled and when its
// selector, template labels or minReadySeconds change; afterwards a pod event costs O(log n).
import type { Pod } from '../../../api/types/pod.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { controllerRefOf } from '../controller-ref.js';
import { isPodActive } from '../pod-readiness.js';
import { matchesSelector } from '../selector-match.js';
import type { LabelSelectorSpec, ReplicaSet } from '../workload-kinds.js';
import { OwnerCounts } from './replica-counts.js';

type PodEvent = 'ADDED' | 'MODIFIED' | 'DELETED';
const podKey = (pod: Pod) => `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;

export class ReplicaCountTracker {
  /** Bound owners by UID, and what they were bound for. */
  readonly #owners = new Map<string, { counts: OwnerCounts; shape: string }>();
  /** The UID each ReplicaSet key was last bound with (a deleted and recreated ReplicaSet has a new one). */
  readonly #uidOfKey = new Map<string, string>();
  readonly #orphans = new Map<string, Map<string, Pod>>();
  /** How many times an owner was built by a walk of its pods (tests, metrics). */
  walks = 0;

  /** `podsOf(uid)`: the pods with an owner reference to `uid` (the informer's owner index). */
  constructor(private readonly podsOf: (uid: string) => Iterable<Pod>) {}

  /** A pod event, with the object held before it (MODIFIED, DELETED), as the informer reports it. */
  observe(type: PodEvent, pod: Pod, old: Pod | undefined): void {
    const key = podKey(pod);
    const before = old ? controllerRefOf(old)?.uid : undefined;
    const after = type === 'DELETED' ? undefined : controllerRefOf(pod)?.uid;
    if (before && before !== after) this.#owners.get(before)?.counts.set(key, undefined);
    if (after) this.#owners.get(after)?.counts.set(key, pod);
    const ns = pod.metadata.namespace ?? '';
    if (old && !controllerRefOf(old)) this.#orphans.get(ns)?.delete(key);
    if (type !== 'DELETED' && !controllerRefOf(pod)) {
      let orphans = this.#orphans.get(ns);
      if (!orphans) this.#orphans.set(ns, (orphans = new Map()));
      orphans.set(key, pod);
    }
    if (this.#orphans.get(ns)?.size === 0) this.#orphans.delete(ns);
  }

  /**
   * The counts of `rs` (at key `key`) settled at `nowMs`, built from its pods when not held for its
   * current UID, selector, template labels and minReadySeconds (or when the clock went back).
   */
  countsFor(key: string, rs: ReplicaSet, nowMs: number): OwnerCounts {
    const uid = rs.metadata.uid ?? '';
    const previous = this.#uidOfKey.get(key);
    if (previous !== undefined && previous !== uid) this.#owners.delete(previous);
    this.#uidOfKey.set(key, uid);
    const params = {
      uid, selector: rs.spec.selector, templateLabels: rs.spec.template.metadata?.labels ?? {}, minReadySeconds: rs.spec.minReadySeconds ?? 0,
    };
    const shape = stableStringify([params.selector ?? null, params.templateLabels, params.minReadySeconds]);
    const held = this.#owners.get(uid);
    if (held && held.shape === shape && held.counts.settle(nowMs)) return held.counts;
    const counts = new OwnerCounts(params);
    for (const pod of this.podsOf(uid)) counts.set(podKey(pod), pod);
    counts.settle(nowMs);
    this.#owners.set(uid, { counts, shape });
    this.walks++;
    return counts;
  }

  /** The ReplicaSet at `key` is gone: drop its counts. */
  forget(key: string): void {
    const uid = this.#uidOfKey.get(key);
    if (uid === undefined) return;
    this.#uidOfKey.delete(key);
    this.#owners.delete(uid);
  }

  /** Orphans of `namespace` the selector picks that are active (O(orphans of the namespace), as kube's claim walks the namespace). */
  adoptable(namespace: string | undefined, selector: LabelSelectorSpec | undefined): Pod[] {
    const out: Pod[] = [];
    for (const pod of this.#orphans.get(namespace ?? '')?.values() ?? []) {
      if (matchesSelector(selector, pod.metadata.labels) && isPodActive(pod)) out.push(pod);
    }
    return out;
  }
}
