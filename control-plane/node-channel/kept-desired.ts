// The node channel's copies of the desired states (and parts) it retained, per topic, to publish
// again after a reconnect (a restarted broker forgets retained messages). At fleet scale they are
// O(pods): a node's desired state carries every pod's spec (~1.7 KB each), so 100,000 pods kept
// ~170 MB of JSON strings on the main thread (the sampled heap profile of a 2,000-pod fleet run put
// 3.3 KB per pod here). A copy is kept as published, then replaced by its deflated bytes (raw
// deflate, level 1: ~9x smaller for a node's similar pods) once the libuv thread pool has
// compressed it: the main thread pays no compression. A copy replaced meanwhile stays replaced.
import { deflateRaw, inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

const inflate = promisify(inflateRaw);

interface Kept {
  payload: string | Buffer;
}

export class KeptDesired {
  readonly #byTopic = new Map<string, Kept>();

  /** Keeps `payload` as the topic's copy (the JSON as published, compressed shortly after). */
  set(topic: string, payload: string): void {
    const kept: Kept = { payload };
    this.#byTopic.set(topic, kept);
    if (payload.length === 0) return;
    deflateRaw(payload, { level: 1 }, (error, deflated) => {
      // a newer copy (or a delete) since: this one is not kept; a failure keeps the string
      if (!error && this.#byTopic.get(topic) === kept) kept.payload = deflated;
    });
  }

  delete(topic: string): void {
    this.#byTopic.delete(topic);
  }

  get size(): number {
    return this.#byTopic.size;
  }

  /** Size of the copies: a string's length in characters, a compressed copy's in bytes. */
  get bytes(): number {
    let total = 0;
    for (const kept of this.#byTopic.values()) total += kept.payload.length;
    return total;
  }

  /** The topics kept, in the order first kept. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** The topic's current copy as JSON (inflated off the main thread when compressed); undefined when none. */
  async payload(topic: string): Promise<string | undefined> {
    const kept = this.#byTopic.get(topic);
    if (!kept) return undefined;
    const { payload } = kept;
    if (typeof payload === 'string') return payload;
    const json = (await inflate(payload)).toString('utf8');
    // replaced while it was inflated: the newer copy is the one to send
    return this.#byTopic.get(topic) === kept ? json : this.payload(topic);
  }
}
