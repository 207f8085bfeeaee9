// WatchCache: when its inner watch fails it watches again (exact) or relists (watchers end and relist).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { CompactedError, WatchOverflowError } from '../../../control-plane/store/store.js';
import { openWatchCache, type WatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ControlledFeed } from './watch-cache-feed.js';
import { WatchRecorder } from './watch-recorder.js';

let clock: FakeClock;
let feed: ControlledFeed;
let cache: WatchCache;
beforeEach(async () => {
  clock = new FakeClock();
  feed = new ControlledFeed(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
  cache = await openWatchCache(feed, { clock, retryInitialDelayMs: 100, retryMaxDelayMs: 400 });
});
afterEach(async () => {
  await cache.close();
});

/** Writes straight to the inner store and waits until the cache has applied it. */
async function writeAndSettle(recorder: WatchRecorder, key: string): Promise<number> {
  const revision = await cache.create(key, key);
  await recorder.until(() => recorder.events.at(-1)?.kv.modRevision === revision, `revision ${revision}`);
  return revision;
}

it('watches the inner store again from where it stopped, so its own watchers see no gap and no error', async () => {
  const recorder = new WatchRecorder(cache, '/r/', { fromRevision: cache.revision });
  await writeAndSettle(recorder, '/r/before');
  feed.breakWatches(new WatchOverflowError(10_000));
  // Written while the cache is not watching: it must pick these up from the inner store's history.
  await feed.create('/r/gap1', 'x');
  await feed.create('/r/gap2', 'x');
  expect(await cache.get('/r/gap1')).toBeUndefined();
  clock.advance(0);
  await recorder.untilEvents(3);
  await writeAndSettle(recorder, '/r/after');
  expect(recorder.events.map((e) => e.kv.key)).toEqual(['/r/before', '/r/gap1', '/r/gap2', '/r/after']);
  expect(recorder.errors).toEqual([]);
  expect(cache.relists).toBe(0);
  expect(feed.watchCalls).toBe(2);
});

it('backs off while the inner store refuses to watch, then resumes exactly', async () => {
  const recorder = new WatchRecorder(cache, '/b/', { fromRevision: cache.revision });
  feed.refusal = new Error('connection refused');
  feed.breakWatches(new Error('connection reset'));
  await feed.create('/b/gap', 'x');
  clock.advance(0); // first retry at once: refused
  await until(() => feed.watchCalls === 2);
  clock.advance(99);
  expect(feed.watchCalls).toBe(2);
  clock.advance(1); // then after 100 ms: refused again
  await until(() => feed.watchCalls === 3);
  clock.advance(199);
  expect(feed.watchCalls).toBe(3);
  feed.refusal = undefined;
  clock.advance(1); // after 200 ms: accepted
  await recorder.untilEvents(1);
  expect(recorder.events.map((e) => e.kv.key)).toEqual(['/b/gap']);
  expect(recorder.errors).toEqual([]);
});

it('relists when the inner history is gone, ending its watchers with CompactedError and serving the new state', async () => {
  await cache.create('/c/kept', '1');
  const doomed = await cache.create('/c/doomed', '1');
  const recorder = new WatchRecorder(cache, '/c/', { fromRevision: cache.revision });
  const listsBefore = feed.listCalls;
  feed.breakWatches(new CompactedError(0, 0));
  await feed.delete('/c/doomed', doomed);
  const added = await feed.create('/c/added', '2');
  clock.advance(0);
  await recorder.untilError();
  expect(recorder.errors[0]).toEqual(new CompactedError(added - 2, added));
  expect(recorder.events).toEqual([]);
  expect(cache.relists).toBe(1);
  expect(feed.listCalls).toBeGreaterThan(listsBefore);
  expect(cache.revision).toBe(added);
  expect((await cache.list('/c/')).items.map((kv) => kv.key)).toEqual(['/c/added', '/c/kept']);
  // A client relists, then watches from the new revision.
  const again = new WatchRecorder(cache, '/c/', { fromRevision: added });
  await writeAndSettle(again, '/c/next');
  expect(again.errors).toEqual([]);
});

it('keeps its watchers when a relist finds nothing was written meanwhile', async () => {
  const recorder = new WatchRecorder(cache, '/q/', { fromRevision: cache.revision });
  await writeAndSettle(recorder, '/q/a');
  feed.breakWatches(new CompactedError(0, 0));
  clock.advance(0);
  await until(() => cache.relists === 1);
  await writeAndSettle(recorder, '/q/b');
  expect(recorder.events.map((e) => e.kv.key)).toEqual(['/q/a', '/q/b']);
  expect(recorder.errors).toEqual([]);
});

/** Waits for a condition that an asynchronous step (microtasks, I/O) makes true. */
async function until(isMet: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isMet()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
