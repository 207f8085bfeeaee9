// Node Leases (kube-node-lease/<node>) written in batches (docs/decisions/058). A renewal that moves
// only renewTime waits in memory and is written with the others every flush interval, a few hundred
// per event-loop turn (one SQLite transaction each); the node lifecycle never reads Leases (it judges
// nodes by the registry's last-seen times), so only what users and other clients read is delayed.
// A renewal is written at once when there is no Lease yet, its duration changed, or the stored one
// would look expired before the next flush. The write skips admission: the three fields it sets
// were checked when the message was decoded (api/mqtt/messages.ts), and it stores what
// ResourceStore.update would (test/control-plane/nodes/node-lease-writer.test.ts compares them).
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import { AlreadyExistsError, NotFoundError } from '../../api/errors.js';
import type { Lease, Node } from '../../api/types/node.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { objectKey } from '../resources/resource-keys.js';
import { resourceTypes } from '../resources/resource-types.js';
import { RevisionMismatchError } from '../store/store.js';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface LeaseRenewal {
  /** RFC 3339 with microseconds, as the agent sent it (checked by the message schema). */
  renewTime: string;
  leaseDurationSeconds: number;
}

export interface NodeLeaseWriterOptions {
  resources: ResourceStore;
  clock: Clock;
  logger: Logger;
  /** How long a renewal that moves only renewTime may wait in memory. Default 20 s (decision 058). */
  flushIntervalMs?: number;
  /** Lease writes started per event-loop turn while flushing. Default 500. */
  writesPerTurn?: number;
}

export const DEFAULT_LEASE_FLUSH_INTERVAL_MS = 20_000;
const MAX_CONFLICT_RETRIES = 5;
/** What a flush may take to reach a node's write (10,000 Leases, chunks of 500 a turn, on a loaded machine). */
const FLUSH_MARGIN_MS = 2_000;

export class NodeLeaseWriter {
  readonly #resources: ResourceStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly flushIntervalMs: number;
  readonly #writesPerTurn: number;
  /** The newest renewal of each node not yet in the store. */
  readonly #pending = new Map<string, LeaseRenewal>();
  /** Nodes whose pending renewal is written at the next turn, not the next flush. */
  readonly #urgent = new Set<string>();
  /** What the store holds for each node, as this writer last wrote or read it (ms of renewTime). */
  readonly #stored = new Map<string, { renewMs: number; leaseDurationSeconds: number }>();
  /** The write under way per node: at most one, so an older renewal never lands after a newer one. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: ClockTimer | undefined;
  /** When the timer writes the pending renewals next (ms, clock). */
  #nextFlushMs: number | undefined;
  #urgentScheduled = false;
  #flushing: Promise<void> | undefined;
  /** Leases written (each a store write) and renewals that replaced a pending one (no write). */
  written = 0;
  coalesced = 0;

  constructor(options: NodeLeaseWriterOptions) {
    this.#resources = options.resources;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_LEASE_FLUSH_INTERVAL_MS;
    this.#writesPerTurn = options.writesPerTurn ?? 500;
  }

  get pending(): number {
    return this.#pending.size;
  }

  start(): void {
    if (this.#timer) return;
    this.#nextFlushMs = this.#clock.now() + this.flushIntervalMs;
    this.#timer = this.#clock.setInterval(() => {
      this.#nextFlushMs = this.#clock.now() + this.flushIntervalMs;
      void this.flush();
    }, this.flushIntervalMs);
  }

  /** Stops the timer and writes what is pending (a restart loses no renewal it was told of). */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#nextFlushMs = undefined;
    await this.flush();
  }

  /** Takes a node's renewal: kept for the next flush, or written at the next turn when it cannot wait. */
  renew(node: string, renewal: LeaseRenewal): void {
    if (this.#pending.has(node)) this.coalesced++;
    this.#pending.set(node, renewal);
    const stored = this.#stored.get(node);
    const nextFlushMs = this.#nextFlushMs ?? this.#clock.now() + this.flushIntervalMs;
    const mustWrite = !stored || stored.leaseDurationSeconds !== renewal.leaseDurationSeconds
      // the stored Lease would look expired before the next flush has written this renewal
      || stored.renewMs + renewal.leaseDurationSeconds * 1000 <= nextFlushMs + FLUSH_MARGIN_MS;
    if (mustWrite) this.#writeSoon(node);
  }

  /** Writes every pending renewal now, a chunk per turn; resolves once they are written (or failed, and kept). */
  async flush(): Promise<void> {
    // one flush at a time: one still writing (the timer's) is waited for, then what is pending now is written
    while (this.#flushing) await this.#flushing;
    // and the writes that could not wait, under way (a stop must not close the store under them)
    const nodes = new Set([...this.#pending.keys(), ...this.#inFlight.keys()]);
    if (nodes.size === 0) return;
    const flushing = this.#write([...nodes]);
    this.#flushing = flushing;
    try {
      await flushing;
    } finally {
      this.#flushing = undefined;
    }
  }

  #writeSoon(node: string): void {
    this.#urgent.add(node);
    if (this.#urgentScheduled) return;
    this.#urgentScheduled = true;
    setImmediate(() => {
      this.#urgentScheduled = false;
      const nodes = [...this.#urgent];
      this.#urgent.clear();
      void this.#write(nodes);
    });
  }

  async #write(nodes: string[]): Promise<void> {
    let failed = 0;
    let lastError: unknown;
    for (let i = 0; i < nodes.length; i += this.#writesPerTurn) {
      // the writes of one chunk are started in one turn: the store commits them in one transaction
      const results = await Promise.allSettled(nodes.slice(i, i + this.#writesPerTurn).map((node) => this.#writeOne(node)));
      for (const r of results) {
        if (r.status === 'rejected') {
          failed++;
          lastError = r.reason;
        }
      }
    }
    if (failed) this.#logger.warn({ failed, err: String((lastError as Error)?.message ?? lastError) }, 'could not write node leases (kept for the next flush)');
  }

  async #writeOne(node: string): Promise<void> {
    // one write per node at a time, so an older renewal never lands after a newer one: wait for the
    // write under way, then write what is pending then (the newest), if anything
    for (let running = this.#inFlight.get(node); running; running = this.#inFlight.get(node)) await running.catch(() => undefined);
    const renewal = this.#pending.get(node);
    if (!renewal) return;
    this.#pending.delete(node);
    this.#urgent.delete(node);
    const write = this.#store(node, renewal);
    this.#inFlight.set(node, write);
    try {
      await write;
      this.written++;
      this.#stored.set(node, { renewMs: Date.parse(renewal.renewTime), leaseDurationSeconds: renewal.leaseDurationSeconds });
    } catch (error) {
      if (!this.#pending.has(node)) this.#pending.set(node, renewal); // retried at the next flush
      throw error;
    } finally {
      this.#inFlight.delete(node);
    }
  }

  /** One Lease write: the stored JSON with spec replaced, guarded by its revision; a create when absent. */
  async #store(node: string, renewal: LeaseRenewal): Promise<void> {
    const key = objectKey(resourceTypes.leases, LEASE_NAMESPACE, node);
    const store = this.#resources.store;
    for (let attempt = 0; ; attempt++) {
      const kv = await store.get(key);
      if (!kv) {
        try {
          await this.#create(node, renewal);
          return;
        } catch (error) {
          if (error instanceof AlreadyExistsError && attempt < MAX_CONFLICT_RETRIES) continue;
          throw error;
        }
      }
      const lease = JSON.parse(kv.value) as Lease;
      const spec = lease.spec ?? {};
      if (spec.holderIdentity === node && spec.renewTime === renewal.renewTime && spec.leaseDurationSeconds === renewal.leaseDurationSeconds) return;
      lease.spec = { ...spec, holderIdentity: node, renewTime: renewal.renewTime, leaseDurationSeconds: renewal.leaseDurationSeconds };
      // as ResourceStore.update: a spec change bumps the generation
      lease.metadata.generation = (lease.metadata.generation ?? 1) + 1;
      try {
        await store.update(key, JSON.stringify(lease), kv.modRevision);
        return;
      } catch (error) {
        if (!(error instanceof RevisionMismatchError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  async #create(node: string, renewal: LeaseRenewal): Promise<void> {
    const owner = await this.#resources.get<Node>(resourceTypes.nodes, undefined, node).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    await this.#resources.create<Lease>(resourceTypes.leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: node, namespace: LEASE_NAMESPACE,
        ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: owner.metadata.uid! }] } : {}),
      },
      spec: { holderIdentity: node, leaseDurationSeconds: renewal.leaseDurationSeconds, renewTime: renewal.renewTime },
    });
  }
}
