// Kubernetes' EventSourceObjectSpamFilter (client-go tools/record): each source (component, host)
// may record events about one object from a token bucket of 25, refilled at one per 5 minutes;
// past that its events about that object are dropped. A 10,000-replica ReplicaSet so writes ~25
// "Created pod" Events, not 10,000 (each an object, a store write and a watch event); the pods'
// own events (Scheduled, Pulled, ...) each have their own bucket. Time comes from the injected clock.
import type { Clock } from '../../api/clock.js';
import type { ObjectReference } from '../../api/types/node.js';

export interface SpamFilterOptions {
  /** Events one source may record about one object at once (kube: 25). */
  burst?: number;
  /** Tokens regained per second (kube: 1/300). */
  refillPerSecond?: number;
  /** Buckets remembered (least recently used forgotten; kube: 4096). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class EventSpamFilter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #burst: number;
  readonly #refillPerMs: number;
  readonly #maxKeys: number;

  constructor(private readonly clock: Clock, options: SpamFilterOptions = {}) {
    this.#burst = options.burst ?? 25;
    this.#refillPerMs = (options.refillPerSecond ?? 1 / 300) / 1000;
    this.#maxKeys = options.maxKeys ?? 4096;
  }

  /** Takes a token for an event of `component` (on `host`) about `ref`; false: drop the event. */
  allow(component: string, host: string | undefined, ref: ObjectReference): boolean {
    const key = [component, host ?? '', ref.kind ?? '', ref.namespace ?? '', ref.name ?? '', ref.uid ?? '', ref.apiVersion ?? ''].join('\u0000');
    const now = this.clock.now();
    const held = this.#buckets.get(key);
    const bucket = held ? { tokens: Math.min(this.#burst, held.tokens + (now - held.at) * this.#refillPerMs), at: now } : { tokens: this.#burst, at: now };
    this.#buckets.delete(key); // re-inserted last: the Map's order is least recently used first
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    return allowed;
  }
}
