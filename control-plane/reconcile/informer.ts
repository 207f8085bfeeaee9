// An informer: one kind's objects, decoded once and kept in memory with indexes, fed by one
// restarting list+watch (restarting-watch.ts), shared by every controller of the process. Readers
// get the cached objects themselves: they are frozen, so a reader that changes one fails loudly
// instead of changing what everybody else reads (copy before changing; ResourceStore.mutate does).
//
// Read-your-writes: the ResourceStore reports each write it makes (onWrite) and the informer applies
// it at once, so a reconcile that wrote a child and runs again sees it even if the watch event has
// not arrived yet. Per key, only a higher resourceVersion replaces what is held (a deleted key keeps
// a tombstone with the deleted object's resourceVersion until the watch brings the deletion), so a
// late watch event never takes back a newer write.
import type { Clock } from '../../api/clock.js';
import { deepFreeze } from '../../api/deep-freeze.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Logger } from 'pino';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';
import { InformerIndexes, type IndexName } from './informer-indexes.js';
import { startRestartingWatch, type RestartingWatch } from './restarting-watch.js';

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
/** `old` is the object held before (MODIFIED and DELETED). */
export type InformerHandler<T extends KubeObject> = (type: InformerEventType, obj: T, old: T | undefined) => void;

export interface InformerOptions {
  resources: ResourceStore;
  clock: Clock;
  logger: Logger;
  restartDelayMs?: number;
}

export const cacheKey = (obj: KubeObject): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;

const rvOf = (obj: KubeObject): number => Number(obj.metadata.resourceVersion ?? 0);

export class Informer<T extends KubeObject = KubeObject> {
  readonly #objects = new Map<string, T>();
  /** Keys deleted by a write of this process whose watch event has not come yet -> the deleted resourceVersion. */
  readonly #tombstones = new Map<string, number>();
  readonly #indexes = new InformerIndexes();
  readonly #handlers = new Set<InformerHandler<T>>();
  #watch: RestartingWatch | undefined;
  #synced = false;
  #syncWaiters: Array<() => void> = [];

  constructor(readonly type: ResourceType, private readonly options: InformerOptions) {
    if (type.storageVersion) throw new Error(`an informer holds stored kinds; ${type.plural} ${type.version} is served by conversion`);
  }

  /** Lists, then follows changes; restarts (relisting) whenever the watch ends. Idempotent. */
  start(): void {
    if (this.#watch) return;
    this.#watch = startRestartingWatch<T>({
      ...this.options,
      type: this.type,
      name: `informer ${this.type.plural}`,
      onList: (items) => this.#replace(items),
      onEvent: (type, obj) => this.#apply(type, obj),
      // the watch event of a write this process made (and applied at once) is not parsed again
      isHeld: (key, modRevision) => this.#isHeld(key, modRevision),
    });
  }

  stop(): void {
    this.#watch?.stop();
    this.#watch = undefined;
  }

  /** Resolves once the first list is held. */
  synced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Calls `handler` for every change from now on (and, once synced, ADDED for what is held: `replay`). */
  subscribe(handler: InformerHandler<T>, replay = true): () => void {
    this.#handlers.add(handler);
    if (replay) for (const obj of this.#objects.values()) handler('ADDED', obj, undefined);
    return () => this.#handlers.delete(handler);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#objects.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.#objects.get(key);
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  /** Objects carrying `value` in index `name` (a namespace, an owner UID, a node name, a `key=value` label). */
  byIndex(name: IndexName, value: string): T[] {
    const out: T[] = [];
    for (const key of this.#indexes.keys(name, value)) out.push(this.#objects.get(key)!);
    return out;
  }

  countByIndex(name: IndexName, value: string): number {
    return this.#indexes.keys(name, value).size;
  }

  /** Objects of a namespace whose labels carry every `matchLabels` pair (callers still match expressions). */
  byLabels(namespace: string | undefined, matchLabels: Record<string, string> | undefined): T[] {
    let smallest: ReadonlySet<string> | undefined = namespace !== undefined ? this.#indexes.keys('namespace', namespace) : undefined;
    for (const [k, v] of Object.entries(matchLabels ?? {})) {
      const keys = this.#indexes.keys('label', `${k}=${v}`);
      if (!smallest || keys.size < smallest.size) smallest = keys;
    }
    if (!smallest) return this.list();
    const out: T[] = [];
    for (const key of smallest) {
      const obj = this.#objects.get(key)!;
      if (namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      if (Object.entries(matchLabels ?? {}).every(([k, v]) => obj.metadata.labels?.[k] === v)) out.push(obj);
    }
    return out;
  }

  /** A write of this process (ResourceStore.onWrite): applied now, as its watch event would be later. */
  observeWrite(kind: 'put' | 'delete', obj: KubeObject): void {
    if (!this.#synced) return; // the list will hold it
    const key = cacheKey(obj);
    if (kind === 'put') {
      // its watch event may have come first (then it is held already: no copy)
      if (!this.#isHeld(key, rvOf(obj))) this.#apply('MODIFIED', deepFreeze(structuredClone(obj)) as T);
      return;
    }
    const held = this.#objects.get(key);
    if (!held || rvOf(held) > rvOf(obj)) return; // the deletion (or a newer object) is here already
    this.#objects.delete(key);
    this.#indexes.update(key, held, undefined);
    this.#tombstones.set(key, rvOf(obj));
    this.#notify('DELETED', held, held);
  }

  /** Whether the object at `key` is held at `rv` or newer (or was deleted by a write of ours after it). */
  #isHeld(key: string, rv: number): boolean {
    const held = this.#objects.get(key);
    const seen = held ? rvOf(held) : this.#tombstones.get(key);
    return seen !== undefined && rv <= seen;
  }

  #apply(type: InformerEventType, incoming: T): void {
    const key = cacheKey(incoming);
    if (this.#isHeld(key, rvOf(incoming))) return; // older than what a write of ours already showed
    const held = this.#objects.get(key);
    const obj = Object.isFrozen(incoming) ? incoming : deepFreeze(incoming);
    this.#tombstones.delete(key);
    if (type === 'DELETED') {
      if (!held) return;
      this.#objects.delete(key);
      this.#indexes.update(key, held, undefined);
      this.#notify('DELETED', obj, held);
      return;
    }
    this.#objects.set(key, obj);
    this.#indexes.update(key, held, obj);
    this.#notify(held ? 'MODIFIED' : 'ADDED', obj, held);
  }

  /** A (re)list: what is gone is DELETED, what changed MODIFIED, what is new ADDED. */
  #replace(items: T[]): void {
    const present = new Set<string>();
    this.#tombstones.clear();
    for (const item of items) {
      const obj = deepFreeze(item);
      const key = cacheKey(obj);
      present.add(key);
      const held = this.#objects.get(key);
      if (held && held.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.#objects.set(key, obj);
      this.#indexes.update(key, held, obj);
      this.#notify(held ? 'MODIFIED' : 'ADDED', obj, held);
    }
    for (const [key, held] of [...this.#objects]) {
      if (present.has(key)) continue;
      this.#objects.delete(key);
      this.#indexes.update(key, held, undefined);
      this.#notify('DELETED', held, held);
    }
    if (!this.#synced) {
      this.#synced = true;
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  #notify(type: InformerEventType, obj: T, old: T | undefined): void {
    for (const handler of this.#handlers) {
      try {
        handler(type, obj, old);
      } catch (error) {
        this.options.logger.error({ informer: this.type.plural, err: (error as Error).message }, 'informer handler failed');
      }
    }
  }
}
