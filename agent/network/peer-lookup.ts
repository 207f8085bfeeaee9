// On-demand peers (decision 043): beyond 1,000 nodes the peers part holds only the nodes running
// Service endpoints; for a pod IP of the cluster that no known peer's pod CIDR holds, the agent asks
// the control plane which node owns it (api/peer-lookup.ts) and keeps the answer here. Answers are
// cached by the owner's block (one lookup serves every pod of that node) in an LRU with expiry;
// "no such node" is cached briefly by address; concurrent asks for one address share one request.
import { isIPv4 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { DesiredPeer } from '../../api/mqtt/messages.js';
import { ipv4ToNumber, parseIpv4Block } from '../../api/pod-addresses.js';

/** Asks the control plane; resolves undefined for "no node owns it" (404), rejects when it cannot tell. */
export type PeerFetch = (ip: string) => Promise<DesiredPeer | undefined>;

export interface PeerLookupOptions {
  fetch: PeerFetch;
  /** Milliseconds (an injected clock). */
  now?: () => number;
  /** How long a found owner is kept (default 5 minutes), a miss (default 5 s). */
  ttlMs?: number;
  negativeTtlMs?: number;
  /** Blocks and misses kept at most (default 4,096 each). */
  max?: number;
}

export class PeerLookup {
  readonly #fetch: PeerFetch;
  /** `${base}/${prefix}` -> the owner. */
  readonly #blocks: LRUCache<string, DesiredPeer>;
  /** address -> nobody owns it (for a while). */
  readonly #misses: LRUCache<string, true>;
  /** Prefix lengths of the blocks seen (one in practice). */
  readonly #prefixes = new Set<number>();
  readonly #inflight = new Map<string, Promise<DesiredPeer | undefined>>();
  /** Requests sent to the control plane (tests, metrics). */
  asked = 0;

  constructor(options: PeerLookupOptions) {
    this.#fetch = options.fetch;
    const now = options.now ?? Date.now;
    const perf = { now };
    const max = options.max ?? 4_096;
    this.#blocks = new LRUCache({ max, ttl: options.ttlMs ?? 300_000, perf, ttlAutopurge: false, ttlResolution: 0 });
    this.#misses = new LRUCache({ max, ttl: options.negativeTtlMs ?? 5_000, perf, ttlAutopurge: false, ttlResolution: 0 });
  }

  /** The owner of `ip` when it is cached (and not expired), else undefined. */
  cached(ip: string): DesiredPeer | undefined {
    if (!isIPv4(ip)) return undefined;
    const n = ipv4ToNumber(ip);
    for (const prefix of this.#prefixes) {
      const size = 2 ** (32 - prefix);
      const peer = this.#blocks.get(`${n - (n % size)}/${prefix}`);
      if (peer) return peer;
    }
    return undefined;
  }

  /** Whether `ip` was answered "no node" lately. */
  knownMissing(ip: string): boolean {
    return this.#misses.get(ip) === true;
  }

  /** The owner of `ip`: from the cache, else from the control plane (undefined: none). Rejects when the control plane cannot be asked. */
  async owner(ip: string): Promise<DesiredPeer | undefined> {
    if (!isIPv4(ip)) return undefined;
    const hit = this.cached(ip);
    if (hit) return hit;
    if (this.knownMissing(ip)) return undefined;
    let pending = this.#inflight.get(ip);
    if (!pending) {
      this.asked++;
      pending = this.#fetch(ip).then((peer) => this.#remember(ip, peer)).finally(() => this.#inflight.delete(ip));
      this.#inflight.set(ip, pending);
    }
    return pending;
  }

  /** Keeps the answer; returns the owner when it is believed. */
  #remember(ip: string, peer: DesiredPeer | undefined): DesiredPeer | undefined {
    const block = peer && parseIpv4Block(peer.podCIDR);
    // an answer whose block does not hold the address asked is not believed
    if (!peer || !block || block.prefix < 8 || ipv4ToNumber(ip) - block.base >= 2 ** (32 - block.prefix) || ipv4ToNumber(ip) < block.base) {
      this.#misses.set(ip, true);
      return undefined;
    }
    this.#prefixes.add(block.prefix);
    this.#blocks.set(`${block.base}/${block.prefix}`, peer);
    return peer;
  }

  /** Forgets what is known about the owner of `ip` (its tunnel moved, a node went). */
  forget(ip: string): void {
    this.#misses.delete(ip);
    const n = isIPv4(ip) ? ipv4ToNumber(ip) : -1;
    for (const prefix of this.#prefixes) this.#blocks.delete(`${n - (n % 2 ** (32 - prefix))}/${prefix}`);
  }

  clear(): void {
    this.#blocks.clear();
    this.#misses.clear();
  }
}
