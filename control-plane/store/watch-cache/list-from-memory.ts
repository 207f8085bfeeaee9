// Lists answered from memory: the live keys at the cache's revision, or an older revision rebuilt by undoing recent events.
import { pageStartKey, prefixRangeEnd } from '../key-range.js';
import type { KeyValue, LabelHint, ListOptions, ListResult, WatchEvent } from '../store.js';
import type { EventRing } from './event-ring.js';
import type { LiveKeys } from './live-keys.js';

/** A page of `prefix` as it is now (at `revision`, the cache's applied revision). */
export function listLatest(live: LiveKeys, prefix: string, options: ListOptions, revision: number): ListResult {
  const limit = pageLimit(options);
  // One extra item tells whether more follow, and is exactly where the next page starts.
  const items = live.range(pageStartKey(prefix, options.startKey), prefixRangeEnd(prefix), limit === undefined ? undefined : limit + 1);
  return toPage(items, revision, limit);
}

/** A page of the candidates of the label index under `prefix` (at the applied revision); undefined when it cannot answer. */
export function listLabelled(live: LiveKeys, prefix: string, options: ListOptions, hints: readonly LabelHint[], revision: number): ListResult | undefined {
  const limit = pageLimit(options);
  const items = live.labelled(prefix, hints, pageStartKey(prefix, options.startKey), limit === undefined ? undefined : limit + 1);
  return items && toPage(items, revision, limit);
}

/**
 * A page of `prefix` as of `revision`, for floorRevision <= revision <= applied: the ring holds
 * every later event, and undoing them (each key back to the prevKv of its first later event)
 * gives the exact state at `revision`.
 */
export function listAsOf(live: LiveKeys, ring: EventRing, prefix: string, options: ListOptions, revision: number): ListResult {
  const limit = pageLimit(options);
  const start = pageStartKey(prefix, options.startKey);
  const end = prefixRangeEnd(prefix);
  const inRange = (key: string): boolean => key >= start && (end === undefined || key < end);
  // Newest first, so each key ends up with the value from before its earliest later event.
  const then = new Map<string, Readonly<KeyValue> | undefined>();
  for (let seq = ring.headSeq - 1; seq >= ring.tailSeq; seq--) {
    const event = ring.at(seq);
    if (event.kv.modRevision <= revision) break;
    if (inRange(event.kv.key)) then.set(event.kv.key, valueBefore(event));
  }
  const wanted = limit === undefined ? undefined : limit + 1;
  // Keys changed since are replaced by their old values, so read enough current keys to cover them.
  const current = live.range(start, end, wanted === undefined ? undefined : wanted + then.size).filter((kv) => !then.has(kv.key));
  const restored = [...then.values()].filter((kv): kv is Readonly<KeyValue> => kv !== undefined).sort(byKey);
  return toPage(mergeSorted(current, restored, wanted), revision, limit);
}

/** The key's value just before `event`, or undefined when it did not exist. */
function valueBefore(event: WatchEvent): Readonly<KeyValue> | undefined {
  return event.type === 'put' && event.created ? undefined : event.prevKv;
}

function pageLimit(options: ListOptions): number | undefined {
  return options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
}

function toPage(items: Readonly<KeyValue>[], revision: number, limit: number | undefined): ListResult {
  if (limit === undefined || items.length <= limit) return { items, revision, more: false };
  return { items: items.slice(0, limit), revision, more: true, nextKey: items[limit]!.key };
}

function byKey(a: Readonly<KeyValue>, b: Readonly<KeyValue>): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Merges two key-sorted lists with no key in common, stopping at `limit` items. */
function mergeSorted(a: Readonly<KeyValue>[], b: Readonly<KeyValue>[], limit = Infinity): Readonly<KeyValue>[] {
  const merged: Readonly<KeyValue>[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && a[i]!.key < b[j]!.key)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  return merged;
}
