// The NoExecute taint's rate limit, as Kubernetes' zoneNoExecuteTainter: one queue of not-Ready nodes
// per zone, each drained by its own token bucket (burst 1) at the rate the zone's state allows. A
// node leaves its queue when it is tainted, or when it is Ready again. Changing a zone's rate swaps
// its bucket the way RateLimitedTimedQueue.SwapLimiter does: a bucket that had no token left gives
// a new one with none (so a zone passing through a slower state does not get a fresh burst), and
// rate 0 takes nothing, ever.

/** Kubernetes' scheduler.EvictionRateLimiterBurst: one node at once, then one per 1/rate seconds. */
export const TAINT_BURST = 1;

/** A token bucket on the injected clock: at most `perSecond` a second, `burst` at once. */
export class RateLimiter {
  #tokens: number;
  #lastMs: number;
  constructor(readonly perSecond: number, private readonly burst: number, nowMs: number) {
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }
  /** Takes a token if one is free; else returns the ms until one is. */
  take(nowMs: number): { ok: true } | { ok: false; waitMs: number } {
    if (this.perSecond <= 0) return { ok: false, waitMs: Infinity };
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) / 1000) * this.perSecond);
    this.#lastMs = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.ceil(((1 - this.#tokens) / this.perSecond) * 1000) };
  }
}

interface ZoneQueue {
  /** Nodes waiting for their NoExecute taint, first come first served (a Set keeps insertion order). */
  readonly nodes: Set<string>;
  limiter: RateLimiter;
}

export class ZoneTainter {
  readonly #zones = new Map<string, ZoneQueue>();
  /** The zone each queued node waits in. */
  readonly #queuedIn = new Map<string, string>();

  /** `primaryPerSecond`: the rate a zone starts at when first seen (Kubernetes: --node-eviction-rate). */
  constructor(private readonly primaryPerSecond: number) {}

  /** Queues `node` in `zone` (moving it if it waited in another); a queued node keeps its place. */
  add(zone: string, node: string, nowMs: number): void {
    const before = this.#queuedIn.get(node);
    if (before === zone) return;
    if (before !== undefined) this.remove(node);
    this.#zone(zone, nowMs).nodes.add(node);
    this.#queuedIn.set(node, zone);
  }

  remove(node: string): void {
    const zone = this.#queuedIn.get(node);
    if (zone === undefined) return;
    this.#queuedIn.delete(node);
    this.#zones.get(zone)?.nodes.delete(node);
  }

  has(node: string): boolean {
    return this.#queuedIn.has(node);
  }

  get queued(): number {
    return this.#queuedIn.size;
  }

  /** The rate `zone` is drained at now. */
  rateOf(zone: string): number | undefined {
    return this.#zones.get(zone)?.limiter.perSecond;
  }

  /** Sets the zone's rate (SwapLimiter): nothing changes if it is the same. */
  swap(zone: string, perSecond: number, nowMs: number): void {
    const q = this.#zone(zone, nowMs);
    if (q.limiter.perSecond === perSecond) return;
    const next = new RateLimiter(perSecond, TAINT_BURST, nowMs);
    // "If we're currently waiting on limiter, we drain the new one"
    if (!q.limiter.take(nowMs).ok) next.take(nowMs);
    q.limiter = next;
  }

  /** Zones no node is in any more (their queue empty) are forgotten; `known` are the zones that have nodes. */
  forgetZonesBut(known: ReadonlySet<string>): void {
    for (const [zone, q] of this.#zones) if (!known.has(zone) && q.nodes.size === 0) this.#zones.delete(zone);
  }

  /** Takes from every zone's queue as many nodes as its bucket allows now (Kubernetes: Try, every 100 ms). */
  take(nowMs: number, onNode: (node: string, zone: string) => void): void {
    for (const [zone, q] of this.#zones) {
      for (const node of q.nodes) {
        if (!q.limiter.take(nowMs).ok) break;
        q.nodes.delete(node);
        this.#queuedIn.delete(node);
        onNode(node, zone);
      }
    }
  }

  #zone(zone: string, nowMs: number): ZoneQueue {
    let q = this.#zones.get(zone);
    if (!q) this.#zones.set(zone, q = { nodes: new Set(), limiter: new RateLimiter(this.primaryPerSecond, TAINT_BURST, nowMs) });
    return q;
  }
}
