// Records core/v1 Events for what happens to objects, folding repeats into a count as Kubernetes does.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import { rfc3339 } from '../../api/clock.js';
import type { Event, ObjectReference } from '../../api/types/node.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { EventSpamFilter, type SpamFilterOptions } from './event-spam-filter.js';

export interface EventInput {
  involvedObject: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: string;
  host?: string;
}

/** Repeats of the same event within this window update one Event (count, lastTimestamp). */
const FOLD_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

export class EventRecorder {
  readonly #recent = new Map<string, { name: string; namespace: string; at: number }>();
  /** The write in flight per event key: a repeat waits for it, so it folds instead of creating a twin. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #seq = 0;
  readonly #spam: EventSpamFilter;

  constructor(private readonly resources: ResourceStore, private readonly clock: Clock, private readonly logger: Logger, spam: SpamFilterOptions = {}) {
    this.#spam = new EventSpamFilter(clock, spam);
  }

  /** Records an event; failures are logged, never thrown (events are best effort). Past the spam filter's burst it is dropped. */
  record(input: EventInput): void {
    const ref = input.involvedObject;
    if (!this.#spam.allow(input.component, input.host, ref)) {
      this.logger.debug({ reason: input.reason, object: ref.name, component: input.component }, 'event dropped by the spam filter');
      return;
    }
    const key = [ref.uid ?? ref.name, ref.fieldPath ?? '', input.type, input.reason, input.message].join('\u0000');
    const write = (this.#inFlight.get(key) ?? Promise.resolve())
      .then(() => this.#write(input, key))
      .catch((error: Error) => this.logger.warn({ err: error.message, reason: input.reason }, 'could not record event'));
    this.#inFlight.set(key, write);
    void write.finally(() => {
      if (this.#inFlight.get(key) === write) this.#inFlight.delete(key);
    });
  }

  /** Resolves once every event recorded so far is written (or given up). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight.values());
  }

  async #write(input: EventInput, key: string): Promise<void> {
    const ref = input.involvedObject;
    const namespace = ref.namespace || 'default';
    const now = this.clock.now();
    const seen = this.#recent.get(key);
    if (seen && now - seen.at < FOLD_WINDOW_MS) {
      seen.at = now;
      try {
        await this.resources.mutate<Event>(resourceTypes.events, seen.namespace, seen.name, (e) => ({
          ...e, count: (e.count ?? 1) + 1, lastTimestamp: rfc3339(now),
        }));
        return;
      } catch {
        // the event was removed meanwhile: write a new one
      }
    }
    const name = `${ref.name ?? 'unknown'}.${(now * 1000 + (this.#seq++ % 1000)).toString(16)}`;
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref,
      reason: input.reason,
      message: input.message,
      type: input.type,
      count: 1,
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      eventTime: null,
      source: { component: input.component, ...(input.host ? { host: input.host } : {}) },
      reportingComponent: input.component,
      reportingInstance: input.host ?? '',
    };
    await this.resources.create(resourceTypes.events, event);
    this.#recent.set(key, { name, namespace, at: now });
    if (this.#recent.size > MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value!);
  }
}
