// WatchCache over SQLite: the Store contract, plus read-your-writes, many watchers, ring expiry and slow watchers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeContract } from '../../contracts/store.contract.js';
import { openStore } from '../../../control-plane/store/open-store.js';
import { openSqliteStore, SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { CompactedError, WatchOverflowError, type Store } from '../../../control-plane/store/store.js';
import { openWatchCache, WatchCache, type WatchCacheOptions } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { ControlledFeed } from './watch-cache-feed.js';
import { WatchRecorder } from './watch-recorder.js';

storeContract('watch cache over sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cache-'));
  const open = async (): Promise<Store> => openWatchCache(await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 }));
  let store = await open();
  return {
    store,
    reopen: async () => {
      await store.close();
      store = await open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('WatchCache', () => {
  let feed: ControlledFeed;
  let cache: WatchCache;
  const open = async (options: WatchCacheOptions = {}): Promise<WatchCache> => {
    cache = await openWatchCache(feed, options);
    return cache;
  };
  beforeEach(async () => {
    feed = new ControlledFeed(await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 }));
  });
  afterEach(async () => {
    await cache.close();
  });

  it('fills itself from what the inner store already holds, and then reads without it', async () => {
    for (let n = 0; n < 2500; n++) await feed.create(`/fill/k${String(n).padStart(4, '0')}`, `${n}`);
    await open({ listPageSize: 1000 });
    expect(feed.listCalls).toBe(3);
    expect(cache.revision).toBe(await feed.currentRevision());
    const page = await cache.list('/fill/', { limit: 10, startKey: '/fill/k1000' });
    expect(page.items.map((kv) => kv.value)).toEqual(Array.from({ length: 10 }, (_, n) => `${1000 + n}`));
    expect(page).toMatchObject({ more: true, nextKey: '/fill/k1010' });
    expect((await cache.get('/fill/k2499'))?.value).toBe('2499');
    expect(feed.listCalls).toBe(3);
  });

  it('resolves a write only once it can be read back, even when the inner feed lags', async () => {
    await open();
    feed.isDelayingEvents = true;
    for (let n = 0; n < 20; n++) {
      const created = await cache.create(`/ryw/k${n}`, 'a');
      expect(await cache.get(`/ryw/k${n}`)).toMatchObject({ value: 'a', modRevision: created });
      const updated = await cache.update(`/ryw/k${n}`, 'b', created);
      expect((await cache.list('/ryw/')).items.find((kv) => kv.key === `/ryw/k${n}`)).toMatchObject({ value: 'b', modRevision: updated });
      expect(await cache.currentRevision()).toBeGreaterThanOrEqual(updated);
    }
    await cache.delete('/ryw/k0');
    expect(await cache.get('/ryw/k0')).toBeUndefined();
  });

  it('serves many watchers on different prefixes, each exactly its own events in order', async () => {
    await open();
    const start = cache.revision;
    const recorders = Array.from({ length: 200 }, (_, i) => new WatchRecorder(cache, `/ns${i % 20}/`, { fromRevision: start }));
    await Promise.all(Array.from({ length: 400 }, (_, n) => cache.create(`/ns${n % 20}/k${n}`, `${n}`)));
    await Promise.all(recorders.map((r) => r.untilEvents(20)));
    recorders.forEach((r, i) => {
      expect(r.events.map((e) => e.kv.key)).toEqual(Array.from({ length: 20 }, (_, k) => `/ns${i % 20}/k${i % 20 + 20 * k}`));
      expect(r.errors).toEqual([]);
      r.watch.cancel();
    });
  });

  it('answers a watch older than its ring with CompactedError, and a list that old from the inner store', async () => {
    await open({ historyEvents: 10 });
    const start = cache.revision;
    for (let n = 0; n < 30; n++) await cache.create(`/ring/k${n}`, `${n}`);
    const floor = await cache.compactedRevision();
    expect(floor).toBe(start + 20);
    const tooOld = new WatchRecorder(cache, '/ring/', { fromRevision: floor - 1 });
    expect(await tooOld.untilError()).toEqual(new CompactedError(floor - 1, floor));
    const oldest = new WatchRecorder(cache, '/ring/', { fromRevision: floor });
    expect((await oldest.untilEvents(10)).map((e) => e.kv.value)).toEqual(Array.from({ length: 10 }, (_, n) => `${20 + n}`));
    oldest.watch.cancel();
    const listsBefore = feed.listCalls;
    expect((await cache.list('/ring/', { revision: floor })).items).toHaveLength(20);
    expect(feed.listCalls).toBe(listsBefore);
    expect((await cache.list('/ring/', { revision: start + 5 })).items).toHaveLength(5);
    expect(feed.listCalls).toBe(listsBefore + 1);
  });

  it('lets a long replay yield to live watchers, and ends it with WatchOverflowError once the ring overtakes it', async () => {
    await open({ historyEvents: 500, deliveryChunkEvents: 50 });
    const start = cache.revision;
    for (let n = 0; n < 500; n++) await cache.create(`/slow/k${n}`, `${n}`);
    const replaying = new WatchRecorder(cache, '/slow/', { fromRevision: start });
    const live = new WatchRecorder(cache, '/slow/');
    await replaying.untilEvents(1);
    const revisions = await Promise.all(Array.from({ length: 500 }, (_, n) => cache.create(`/slow/live${n}`, `${n}`)));
    await live.untilEvents(500);
    expect(live.revisions).toEqual(revisions);
    expect(await replaying.untilError()).toBeInstanceOf(WatchOverflowError);
    expect(replaying.events.length).toBeLessThan(1000);
    expect(replaying.revisions).toEqual(Array.from({ length: replaying.events.length }, (_, k) => start + 1 + k));
  });

  it('finishes a long replay while live watchers keep up', async () => {
    await open({ deliveryChunkEvents: 100 });
    const start = cache.revision;
    for (let n = 0; n < 3000; n++) await cache.create(`/long/k${n}`, `${n}`);
    const replaying = new WatchRecorder(cache, '/long/', { fromRevision: start });
    const live = new WatchRecorder(cache, '/long/');
    await replaying.untilEvents(1);
    const last = await cache.create('/long/last', '');
    await live.untilEvents(1);
    expect(replaying.events.length).toBeLessThan(3000);
    await replaying.untilEvents(3001);
    expect(replaying.revisions).toEqual(Array.from({ length: 3001 }, (_, k) => start + 1 + k));
    expect(replaying.revisions.at(-1)).toBe(last);
  });

  it('ends a replaying watch with CompactedError when compaction overtakes it, and spares watchers ahead of it', async () => {
    await open({ deliveryChunkEvents: 10 });
    const start = cache.revision;
    for (let n = 0; n < 100; n++) await cache.create(`/cmp/k${n}`, `${n}`);
    const replaying = new WatchRecorder(cache, '/cmp/', { fromRevision: start });
    const ahead = new WatchRecorder(cache, '/cmp/', { fromRevision: start + 60 });
    await replaying.untilEvents(1);
    await cache.compact(start + 50);
    expect(await replaying.untilError()).toEqual(new CompactedError(start + 10, start + 50));
    expect(replaying.revisions).toEqual(Array.from({ length: 10 }, (_, k) => start + 1 + k));
    await ahead.untilEvents(40);
    expect(ahead.errors).toEqual([]);
  });

  it('returns the same frozen values to every reader', async () => {
    await open();
    await cache.create('/frozen/a', '1');
    const kv = (await cache.get('/frozen/a'))!;
    expect(Object.isFrozen(kv)).toBe(true);
    expect((await cache.list('/frozen/')).items[0]).toBe(kv);
  });
});

describe('openStore', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-open-cache-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('wraps the driver in a watch cache unless asked for the bare driver', async () => {
    const cached = await openStore('sqlite', dataDir, { cache: { historyEvents: 100 } });
    expect(cached).toBeInstanceOf(WatchCache);
    await cached.create('/a', '1');
    await cached.close();
    const bare = await openStore('sqlite', dataDir, { cache: false });
    expect(bare).toBeInstanceOf(SqliteStore);
    expect((await bare.get('/a'))?.value).toBe('1');
    await bare.close();
  });
});
