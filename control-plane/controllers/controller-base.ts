// What every controller shares: a context (store, events, clock, logger), one WorkQueue of keys,
// and watches whose handlers only enqueue keys. Reconcilers read through the ResourceStore, which
// serves from the watch cache with read-your-writes, so a reconcile always sees its own writes.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore, WatchEventType } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';
import { WorkQueue, type ReconcileResult, type WorkQueueObserver } from './work-queue.js';

export interface ControllerContext {
  resources: ResourceStore;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Reports every controller's queue (metrics). */
  queueObserver?: WorkQueueObserver;
}

export abstract class Controller {
  protected readonly queue: WorkQueue;
  #watches: Array<{ cancel(): void }> = [];
  #stopped = false;

  constructor(protected readonly ctx: ControllerContext, readonly name: string, workers = 2) {
    this.queue = new WorkQueue({
      name, reconcile: (key, signal) => this.reconcile(key, signal), clock: ctx.clock, logger: ctx.logger, workers,
      ...(ctx.queueObserver ? { observer: ctx.queueObserver } : {}),
    });
  }

  abstract start(): void;
  abstract reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#watches) w.cancel();
    this.#watches = [];
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Watches `type` from its current state (ADDED replay), restarting after errors. */
  protected watch<T extends KubeObject>(type: ResourceType, onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void): void {
    const start = () => {
      if (this.#stopped) return;
      const w = this.ctx.resources.watch<T>(type, { resourceVersion: '0' }, (t: WatchEventType, obj) => {
        if (t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED') onEvent(t, obj);
      }, (error) => {
        this.ctx.logger.warn({ controller: this.name, type: type.plural, err: error.message }, 'watch ended; restarting');
        this.#watches = this.#watches.filter((x) => x !== w);
        this.ctx.clock.setTimeout(start, 1000);
      });
      this.#watches.push(w);
    };
    start();
  }

  protected recordEvent(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.events.record({
      involvedObject: { kind: obj.kind, apiVersion: obj.apiVersion, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type, reason, message, component: this.name,
    });
  }
}
