// The node channel's copies of the desired states (and parts) it retained, per topic, to publish
// again after a reconnect (a restarted broker forgets retained messages). At fleet scale they are
// O(pods): a node's desired state carries every pod's spec (~1.7 KB each); the sampled heap profile
// of a 2,000-pod fleet run put 3.3 KB per pod in these strings (~330 MB at 100,000 pods).
// A copy that stayed unchanged for `settleMs` is deflated (raw deflate, level 1: ~9x smaller for a
// node's similar pods) by a sweep on the main thread, in slices of at most `sliceMs`. Compressing
// at every publish cost the main thread 3.2 % of a 10,000-pod rollout (Node's async zlib sets up a
// stream per call; a sync call is ~0.3 ms per 14 KB): during a rollout a node's copy is replaced
// every minute or so and most versions never settle; once the fleet is settled each is deflated once.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { systemClock, type Clock, type ClockTimer } from '../../api/clock.js';

interface Kept {
  payload: string | Buffer;
  /** When it was kept (the clock's ms). */
  at: number;
}

export interface KeptDesiredOptions {
  clock?: Clock;
  /** A copy unchanged this long is deflated (default 60 s). */
  settleMs?: number;
  /** A sweep yields the main loop after this much work (default 5 ms). */
  sliceMs?: number;
}

export class KeptDesired {
  readonly #byTopic = new Map<string, Kept>();
  readonly #clock: Clock;
  readonly #settleMs: number;
  readonly #sliceMs: number;
  #timer: ClockTimer | undefined;
  /** The sweep under way: resumed after each slice (a Map's iterator sees later changes). */
  #sweep: IterableIterator<[string, Kept]> | undefined;
  /** A copy was kept while a sweep ran (one it had passed may have been replaced): another sweep follows. */
  #keptDuringSweep = false;

  constructor(options: KeptDesiredOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#settleMs = options.settleMs ?? 60_000;
    this.#sliceMs = options.sliceMs ?? 5;
  }

  /** Keeps `payload` as the topic's copy (the JSON as published; deflated once it has settled). */
  set(topic: string, payload: string): void {
    this.#byTopic.set(topic, { payload, at: this.#clock.now() });
    if (this.#sweep) this.#keptDuringSweep = true;
    else this.#schedule();
  }

  delete(topic: string): void {
    this.#byTopic.delete(topic);
  }

  get size(): number {
    return this.#byTopic.size;
  }

  /** Size of the copies: a string's length in characters, a deflated copy's in bytes. */
  get bytes(): number {
    let total = 0;
    for (const kept of this.#byTopic.values()) total += kept.payload.length;
    return total;
  }

  /** The topics kept, in the order first kept. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** The topic's current copy as JSON; undefined when none. */
  payload(topic: string): string | undefined {
    const payload = this.#byTopic.get(topic)?.payload;
    return payload === undefined || typeof payload === 'string' ? payload : inflateRawSync(payload).toString('utf8');
  }

  /** Stops the sweeps (the copies stay readable). */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#sweep = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#sweep) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#keptDuringSweep = false;
      this.#sweep = this.#byTopic.entries();
      this.#slice();
    }, this.#settleMs);
  }

  /** Deflates settled copies until `sliceMs` of work; continues on the next turn of the loop, then waits for the next settle. */
  #slice(): void {
    const sweep = this.#sweep;
    if (!sweep) return;
    const started = performance.now();
    const now = this.#clock.now();
    let waiting = false;
    for (let next = sweep.next(); !next.done; next = sweep.next()) {
      const kept = next.value[1];
      if (typeof kept.payload !== 'string') continue;
      if (now - kept.at < this.#settleMs) {
        waiting = true; // not settled yet: the next sweep
        continue;
      }
      if (kept.payload.length > 0) kept.payload = deflateRawSync(kept.payload, { level: 1 });
      if (performance.now() - started >= this.#sliceMs) {
        setImmediate(() => this.#slice());
        return;
      }
    }
    this.#sweep = undefined;
    if (waiting || this.#keptDuringSweep) this.#schedule();
  }
}
