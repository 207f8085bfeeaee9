// One ReplicaSet's status counts kept per pod change (decision 072): its active pods (controlled by
// it, matching its selector, not terminating or finished), of them the fully labeled, the Ready and
// the available ones (Ready for minReadySeconds, judged at the time they are read), and the pods it
// controls that its selector no longer matches (to release). Bound to the selector, template labels
// and minReadySeconds it was built for: when those change the owner is built again from its pods.
// A change costs O(log n) (a Ready pod waiting to turn available sits in a heap); reading the counts
// costs O(pods that turned available since the last read).
import type { Pod } from '../../../api/types/pod.js';
import { controllerRefOf } from '../controller-ref.js';
import { isPodActive, podReadySinceMs } from '../pod-readiness.js';
import { matchesSelector } from '../selector-match.js';
import type { LabelSelectorSpec } from '../workload-kinds.js';
import type { ReplicaCountsNow } from './replica-plan.js';

/** What the counts depend on besides the pods. */
export interface CountParams {
  uid: string;
  selector: LabelSelectorSpec | undefined;
  templateLabels: Record<string, string>;
  minReadySeconds: number;
}

/** What one pod adds to its owner's counts (replaced, never changed, when the pod changes). */
interface Facts {
  readonly pod: Pod;
  /** Active and matching: counted in replicas. Otherwise it is held only to be released. */
  readonly counted: boolean;
  readonly fullyLabeled: boolean;
  readonly readySince: number | undefined;
  available: boolean;
}

interface Pending { at: number; key: string; facts: Facts }

export class OwnerCounts {
  replicas = 0;
  fullyLabeled = 0;
  ready = 0;
  available = 0;
  readonly #pods = new Map<string, Facts>();
  readonly #release = new Set<string>();
  readonly #templateLabels: Array<[string, string]>;
  readonly #minReadyMs: number;
  /** Ready pods not yet available, min-heap by when they turn available; entries whose facts were replaced are skipped. */
  #pending: Pending[] = [];
  #settledAt = -Infinity;

  constructor(readonly params: CountParams) {
    this.#templateLabels = Object.entries(params.templateLabels);
    this.#minReadyMs = params.minReadySeconds * 1000;
  }

  /** The pod at `key` is now `pod` (undefined: gone). Pods controlled by another owner count as gone. */
  set(key: string, pod: Pod | undefined): void {
    const old = this.#pods.get(key);
    if (old) this.#remove(key, old);
    const facts = pod && controllerRefOf(pod)?.uid === this.params.uid ? this.#factsOf(pod) : undefined;
    if (facts) this.#add(key, facts);
  }

  /**
   * Moves the pods whose minReadySeconds have passed by `nowMs` to available. False when the clock
   * went back (a pod counted available may not be any more): the caller builds the counts again.
   */
  settle(nowMs: number): boolean {
    if (nowMs < this.#settledAt) return false;
    this.#settledAt = nowMs;
    for (let top = this.#top(); top && top.at <= nowMs; top = this.#top()) {
      this.#pop();
      top.facts.available = true;
      this.available++;
    }
    return true;
  }

  /** The counts at the last settle(nowMs). */
  now(nowMs: number): ReplicaCountsNow {
    const next = this.#top();
    return {
      replicas: this.replicas, fullyLabeled: this.fullyLabeled, ready: this.ready, available: this.available,
      ...(next ? { nextAvailableInMs: next.at - nowMs } : {}),
    };
  }

  /** The active pods (a walk: only to choose which to delete). */
  activePods(): Pod[] {
    const out: Pod[] = [];
    for (const f of this.#pods.values()) if (f.counted) out.push(f.pod);
    return out;
  }

  /** Pods it controls that its selector does not match (not terminating): to release. */
  releasable(): Pod[] {
    return [...this.#release].map((key) => this.#pods.get(key)!.pod);
  }

  #factsOf(pod: Pod): Facts | undefined {
    const labels = pod.metadata.labels;
    if (!matchesSelector(this.params.selector, labels)) {
      return pod.metadata.deletionTimestamp ? undefined : { pod, counted: false, fullyLabeled: false, readySince: undefined, available: false };
    }
    if (!isPodActive(pod)) return undefined;
    const fullyLabeled = this.#templateLabels.every(([k, v]) => labels?.[k] === v);
    return { pod, counted: true, fullyLabeled, readySince: podReadySinceMs(pod), available: false };
  }

  #add(key: string, f: Facts): void {
    this.#pods.set(key, f);
    if (!f.counted) {
      this.#release.add(key);
      return;
    }
    this.replicas++;
    if (f.fullyLabeled) this.fullyLabeled++;
    if (f.readySince === undefined) return;
    this.ready++;
    if (this.#minReadyMs <= 0) {
      f.available = true;
      this.available++;
    } else this.#push({ at: f.readySince + this.#minReadyMs, key, facts: f });
  }

  #remove(key: string, f: Facts): void {
    this.#pods.delete(key);
    if (!f.counted) {
      this.#release.delete(key);
      return;
    }
    this.replicas--;
    if (f.fullyLabeled) this.fullyLabeled--;
    if (f.readySince === undefined) return;
    this.ready--;
    if (f.available) this.available--;
    // its heap entry, if any, is now stale (#top skips it); rebuild when stale entries dominate
    else if (this.#pending.length > 1024 && this.#pending.length > 2 * (this.ready - this.available)) this.#compact();
  }

  #isLive(e: Pending): boolean {
    return this.#pods.get(e.key) === e.facts;
  }

  #compact(): void {
    const live = this.#pending.filter((e) => this.#isLive(e));
    this.#pending = [];
    for (const e of live) this.#push(e);
  }

  /** The earliest live pending entry (dropping stale ones from the top). */
  #top(): Pending | undefined {
    while (this.#pending.length && !this.#isLive(this.#pending[0]!)) this.#pop();
    return this.#pending[0];
  }

  #push(e: Pending): void {
    const h = this.#pending;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#pending;
    const last = h.pop()!;
    if (!h.length) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1]!.at < h[l]!.at ? l + 1 : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
