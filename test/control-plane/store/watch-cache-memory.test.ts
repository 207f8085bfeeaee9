// WatchCache's memory: the sorted key index, and lists at older revisions rebuilt from the ring, checked against SQLite.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { ListOptions } from '../../../control-plane/store/store.js';
import { SortedKeys } from '../../../control-plane/store/watch-cache/sorted-keys.js';
import { openWatchCache, type WatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { ControlledFeed } from './watch-cache-feed.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SortedKeys', () => {
  it('keeps keys in code unit order through inserts and deletes across many blocks', () => {
    const next = random(7);
    const keys = new SortedKeys();
    const model = new Set<string>();
    for (let n = 0; n < 20_000; n++) {
      const key = `/k/${Math.floor(next() * 5000).toString(36)}`;
      if (next() < 0.7) {
        keys.insert(key);
        model.add(key);
      } else {
        keys.delete(key);
        model.delete(key);
      }
    }
    const sorted = [...model].sort();
    expect(keys.size).toBe(sorted.length);
    expect(keys.range('', undefined)).toEqual(sorted);
    expect(keys.range('/k/a', '/k/b', 50)).toEqual(sorted.filter((k) => k >= '/k/a' && k < '/k/b').slice(0, 50));
    expect(SortedKeys.from([...model]).range('/k/', '/k0')).toEqual(sorted);
  });
});

describe('WatchCache lists at older revisions', () => {
  let sqlite: SqliteStore;
  let feed: ControlledFeed;
  let cache: WatchCache;
  beforeEach(async () => {
    sqlite = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    await sqlite.create('/h/a/before-cache', 'x');
    feed = new ControlledFeed(sqlite);
    cache = await openWatchCache(feed);
  });
  afterEach(async () => {
    await cache.close();
  });

  it('answers every older revision it holds from memory exactly as the inner store does', async () => {
    const next = random(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const floor = cache.revision;
    for (let n = 0; n < 600; n++) {
      const key = `/h/${pick(['a', 'b', 'c'])}/${Math.floor(next() * 40)}`;
      const existing = await cache.get(key);
      if (!existing) await cache.create(key, `${n}`);
      else if (next() < 0.6) await cache.update(key, `${n}`, existing.modRevision);
      else await cache.delete(key, existing.modRevision);
    }
    const innerLists = feed.listCalls;
    for (let probe = 0; probe < 300; probe++) {
      const revision = floor + Math.floor(next() * (cache.revision - floor + 1));
      const options: ListOptions = { revision, limit: pick([undefined, 1, 5, 1000]), startKey: pick([undefined, '/h/b/', '/h/a/2', '/h/c/9']) };
      const prefix = pick(['/h/', '/h/a/', '/h/b/', '/h/c/1', '/']);
      expect(await cache.list(prefix, options), `${prefix} ${JSON.stringify(options)}`).toEqual(await sqlite.list(prefix, options));
    }
    expect(feed.listCalls).toBe(innerLists);
  });
});
