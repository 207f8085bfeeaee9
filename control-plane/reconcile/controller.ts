// What every controller shares: a context (store, informers, events, clock, logger), one WorkQueue of
// keys, and informer subscriptions whose handlers only enqueue keys. Reconcilers read the object they
// reconcile through the ResourceStore (the watch cache, read-your-writes) and everything else from
// the shared informers' indexes (also read-your-writes for this process's writes): no list of the
// store on an event or in a reconcile.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';
import type { Informer, InformerEventType } from './informer.js';
import { startRestartingWatch } from './restarting-watch.js';
import { SharedInformers } from './shared-informers.js';
import { WorkQueue, type ReconcileResult, type WorkQueueObserver } from './work-queue.js';

export interface ControllerContext {
  resources: ResourceStore;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** The process's shared caches; a controller without one makes its own (unit tests). */
  informers?: SharedInformers;
  /** Reports every controller's queue (metrics). */
  queueObserver?: WorkQueueObserver;
  /**
   * Child events (`owns()`) reconcile an owner at most once per this many ms (0 or absent: at
   * every event). The control plane sets it; unit tests on fake clocks leave it off.
   */
  ownerSyncIntervalMs?: number;
}

/** The controller reference of an object (ownerReferences with controller: true). */
export const controllerOf = (obj: KubeObject) => obj.metadata.ownerReferences?.find((r) => r.controller === true);

export abstract class Controller {
  protected readonly queue: WorkQueue;
  protected readonly informers: SharedInformers;
  readonly #ownsInformers: boolean;
  #subscriptions: Array<() => void> = [];

  constructor(protected readonly ctx: ControllerContext, readonly name: string, workers = 2) {
    this.queue = new WorkQueue({
      name, reconcile: (key, signal) => this.reconcile(key, signal), clock: ctx.clock, logger: ctx.logger, workers,
      ...(ctx.queueObserver ? { observer: ctx.queueObserver } : {}),
    });
    this.#ownsInformers = !ctx.informers;
    this.informers = ctx.informers ?? new SharedInformers(ctx);
  }

  abstract start(): void;
  abstract reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  stop(): void {
    for (const unsubscribe of this.#subscriptions) unsubscribe();
    this.#subscriptions = [];
    this.queue.stop();
    if (this.#ownsInformers) this.informers.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** The shared cache of `type`, holding at least its first list. */
  protected async cache<T extends KubeObject>(type: ResourceType): Promise<Informer<T>> {
    const informer = this.informers.for<T>(type);
    await informer.synced();
    return informer;
  }

  /** Follows `type` from its current state (ADDED for what exists), through the shared informer. */
  protected watch<T extends KubeObject>(type: ResourceType, onEvent: (type: InformerEventType, obj: T, old: T | undefined) => void): void {
    this.#subscriptions.push(this.informers.for<T>(type).subscribe(onEvent));
  }

  /**
   * Follows `type` without caching it (a kind read by nobody else, e.g. every kind the garbage
   * collector looks at): ADDED for what a (re)list finds, then changes, through the one restarting watch.
   */
  protected watchUncached<T extends KubeObject>(type: ResourceType, onEvent: (type: InformerEventType, obj: T) => void): void {
    const w = startRestartingWatch<T>({
      resources: this.ctx.resources, type, clock: this.ctx.clock, logger: this.ctx.logger, name: `${this.name} ${type.plural}`,
      onList: (items) => { for (const obj of items) onEvent('ADDED', obj); },
      onEvent,
    });
    this.#subscriptions.push(() => w.stop());
  }

  /** Enqueues each object of `type` itself (`namespace/name`, or `name` when cluster-scoped). */
  protected watchOwn(type: ResourceType): void {
    this.watch(type, (_t, obj) => this.enqueue(keyOf(obj)));
  }

  /**
   * "Watch my kind, enqueue the owner of a child": a change to an object of `childType` enqueues the
   * `ownerKind` object that controls it (and the one that controlled it before, when that changed).
   * `orphan` is told about children with no controller (adoption by selector).
   */
  protected owns<T extends KubeObject>(childType: ResourceType, ownerKind: string, orphan?: (child: T) => void): void {
    this.watch<T>(childType, (_t, child, old) => {
      const ref = controllerOf(child);
      const before = old ? controllerOf(old) : undefined;
      const interval = this.ctx.ownerSyncIntervalMs ?? 0;
      if (before && before.uid !== ref?.uid && before.kind === ownerKind) this.queue.addAtMostEvery(ownerKey(child, before.name), interval);
      if (ref) {
        if (ref.kind === ownerKind) this.queue.addAtMostEvery(ownerKey(child, ref.name), interval);
      } else orphan?.(child);
    });
  }

  protected recordEvent(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.events.record({
      involvedObject: { kind: obj.kind, apiVersion: obj.apiVersion, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type, reason, message, component: this.name,
    });
  }
}

const keyOf = (obj: KubeObject) => (obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!);
const ownerKey = (child: KubeObject, name: string) => (child.metadata.namespace ? `${child.metadata.namespace}/${name}` : name);
