// Watches over the Store as Kubernetes watch events: initial ADDED replay, selector transitions, bookmarks, 410.
import type { Clock, ClockTimer } from '../../api/clock.js';
import { BadRequestError, ExpiredError } from '../../api/errors.js';
import type { KubeList, KubeObject } from '../../api/types/meta.js';
import { CompactedError, type Store, type Watch, type WatchEvent } from '../store/store.js';
import { matchesFields, parseFieldSelector, rawFieldPrefilter } from './field-selector.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import { collectionPrefix, sharedObject } from './resource-keys.js';
import type { ResourceType } from './resource-types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** '' or '0' (or absent): send the current objects as ADDED first, then changes. */
  resourceVersion?: string;
  allowBookmarks?: boolean;
  /**
   * In-process watchers only (informers): a put whose object the watcher already holds at this
   * revision or newer (its own write, applied at once) is dropped before it is parsed. `name` is
   * the key below the kind's collection (`namespace/name` or `name`).
   */
  isHeld?: (name: string, modRevision: number) => boolean;
}

interface WatchArgs<T extends KubeObject> {
  store: Store;
  type: ResourceType;
  opts: WatchOptions;
  onEvent: (type: WatchEventType, obj: T) => void;
  onError: (err: Error) => void;
  clock: Clock;
  bookmarkIntervalMs: number;
  list: (opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }) => Promise<KubeList<T>>;
}

/** Selector errors throw synchronously (400); later failures go to onError once, after which nothing more is sent. */
export function startResourceWatch<T extends KubeObject>(args: WatchArgs<T>): { cancel(): void } {
  const { store, type, opts, onEvent, onError, clock } = args;
  const labels = parseLabelSelector(opts.labelSelector);
  const fields = parseFieldSelector(type, opts.fieldSelector);
  const rv = opts.resourceVersion ?? '';
  if (rv !== '' && !/^\d+$/.test(rv)) throw new BadRequestError(`invalid resource version: ${rv}`);
  const matches = (obj: T) => matchesLabels(labels, obj.metadata.labels) && matchesFields(fields, obj);
  // without selectors every object matches: the previous value need not be parsed to tell
  // MODIFIED from ADDED/DELETED (parsing dominates the cost of busy watches)
  const selective = labels.requirements.length > 0 || fields.requirements.length > 0;
  const prefilter = rawFieldPrefilter(fields);
  const namesFrom = collectionPrefix(type).length;
  let cancelled = false;
  let storeWatch: Watch | undefined;
  let bookmarkTimer: ClockTimer | undefined;
  let lastRevision = 0;

  const cancel = () => {
    cancelled = true;
    storeWatch?.cancel();
    bookmarkTimer?.cancel();
  };
  const fail = (err: unknown) => {
    if (cancelled) return;
    cancel();
    if (err instanceof CompactedError) {
      onError(new ExpiredError(`too old resource version: ${err.requested} (${err.compacted})`, undefined, { cause: err }));
    } else onError(err instanceof Error ? err : new Error(String(err)));
  };
  const handle = (event: WatchEvent) => {
    if (cancelled) return;
    lastRevision = Math.max(lastRevision, event.kv.modRevision);
    if (event.type === 'put' && opts.isHeld?.(event.kv.key.slice(namesFrom), event.kv.modRevision)) return;
    // neither the new nor the old value can match: nothing to send, nothing to parse
    if (prefilter && !prefilter(event.kv.value) && (!event.prevKv || !prefilter(event.prevKv.value))) return;
    // the object every watcher of this value shares (frozen): decoded once per stored value, not per watcher
    const obj = sharedObject<T>(event.kv);
    if (event.type === 'delete') {
      if (matches(obj)) onEvent('DELETED', obj);
      return;
    }
    const isNow = matches(obj);
    const wasBefore = event.prevKv !== undefined && !event.created && (!selective || matches(sharedObject<T>(event.prevKv)));
    if (isNow) onEvent(wasBefore ? 'MODIFIED' : 'ADDED', obj);
    else if (wasBefore) onEvent('DELETED', obj);
  };

  const start = async () => {
    let from: number;
    if (rv === '' || rv === '0') {
      const list = await args.list({ namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      from = Number(list.metadata.resourceVersion);
      for (const item of list.items) {
        if (cancelled) return;
        onEvent('ADDED', item);
      }
    } else from = Number(rv);
    if (cancelled) return;
    lastRevision = from;
    storeWatch = store.watch(collectionPrefix(type, opts.namespace), { fromRevision: from }, handle, fail);
    if (opts.allowBookmarks) {
      bookmarkTimer = clock.setInterval(() => {
        if (!cancelled) onEvent('BOOKMARK', bookmark<T>(type, lastRevision));
      }, args.bookmarkIntervalMs);
    }
  };
  start().catch(fail);
  return { cancel };
}

function bookmark<T extends KubeObject>(type: ResourceType, revision: number): T {
  return { kind: type.kind, apiVersion: type.apiVersion, metadata: { resourceVersion: String(revision) } } as T;
}
