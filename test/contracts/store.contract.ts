// The Store contract: etcd's semantics, run against every driver (see control-plane/store/store.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type Store,
  type WatchEvent,
} from '../../control-plane/store/store.js';
import { storeWatchContract } from '../control-plane/store/store-watch.contract.js';

export interface OpenedStore {
  store: Store;
  /** Closes the current store and opens the same data again (a restart). */
  reopen?: () => Promise<Store>;
  /** Closes whatever store is open and removes its data. */
  cleanup: () => Promise<void>;
}

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });
    const current = (): Store => store;

    describe('create and get', () => {
      it('creates a key and reads it back with its revisions', async () => {
        const revision = await store.create('/registry/pods/default/a', '{"n":1}');
        expect(await store.get('/registry/pods/default/a')).toEqual({
          key: '/registry/pods/default/a',
          value: '{"n":1}',
          createRevision: revision,
          modRevision: revision,
        });
      });

      it('returns undefined for a key that was never written', async () => {
        expect(await store.get('/registry/pods/default/none')).toBeUndefined();
      });

      it('refuses to create a key that exists, without using a revision', async () => {
        await store.create('/k/a', 'one');
        const before = await store.currentRevision();
        await expect(store.create('/k/a', 'two')).rejects.toSatisfy((e) => e instanceof KeyExistsError && e.key === '/k/a');
        expect(await store.currentRevision()).toBe(before);
        expect((await store.get('/k/a'))?.value).toBe('one');
      });

      it('creates a deleted key again with a new createRevision', async () => {
        await store.create('/k/a', 'one');
        await store.delete('/k/a');
        const again = await store.create('/k/a', 'two');
        expect(await store.get('/k/a')).toMatchObject({ value: 'two', createRevision: again, modRevision: again });
      });

      it('keeps values byte-for-byte, including non-ASCII text', async () => {
        const value = JSON.stringify({ name: 'pod-é', emoji: '🚀', empty: '' });
        await store.create('/k/u', value);
        expect((await store.get('/k/u'))?.value).toBe(value);
      });
    });

    describe('list', () => {
      it('lists keys under a prefix in key order, not keys that merely share its first characters', async () => {
        // default0 is the first key after the prefix's range ('0' follows '/').
        for (const key of ['/registry/pods/default/b', '/registry/pods/default2/x', '/registry/pods/default/a', '/registry/pods/defaul', '/registry/pods/default0']) {
          await store.create(key, key);
        }
        const result = await store.list('/registry/pods/default/');
        expect(result.items.map((kv) => kv.key)).toEqual(['/registry/pods/default/a', '/registry/pods/default/b']);
        expect(result.more).toBe(false);
        expect(result.revision).toBe(await store.currentRevision());
        expect((await store.list('/registry/pods/')).items).toHaveLength(5);
      });

      it('lists the keys as they were at an older revision', async () => {
        const a1 = await store.create('/l/a', 'a1');
        await store.create('/l/b', 'b1');
        const then = await store.currentRevision();
        await store.update('/l/a', 'a2', a1);
        await store.delete('/l/b');
        await store.create('/l/c', 'c1');
        const old = await store.list('/l/', { revision: then });
        expect(old.revision).toBe(then);
        expect(old.items.map((kv) => [kv.key, kv.value, kv.modRevision])).toEqual([
          ['/l/a', 'a1', a1],
          ['/l/b', 'b1', a1 + 1],
        ]);
        expect((await store.list('/l/')).items.map((kv) => kv.value)).toEqual(['a2', 'c1']);
      });

      it('pages through a prefix at one revision while writes continue', async () => {
        for (const n of [1, 2, 3, 4, 5]) await store.create(`/p/k${n}`, `v${n}`);
        const first = await store.list('/p/', { limit: 2 });
        expect(first.items.map((kv) => kv.key)).toEqual(['/p/k1', '/p/k2']);
        expect(first.more).toBe(true);
        await store.delete('/p/k3');
        await store.create('/p/k35', 'late');
        const seen = [...first.items];
        let page = first;
        while (page.more) {
          page = await store.list('/p/', { limit: 2, startKey: page.nextKey, revision: first.revision });
          expect(page.revision).toBe(first.revision);
          seen.push(...page.items);
        }
        expect(seen.map((kv) => kv.key)).toEqual(['/p/k1', '/p/k2', '/p/k3', '/p/k4', '/p/k5']);
        expect(page.nextKey).toBeUndefined();
      });
    });

    describe('update and delete', () => {
      it('updates a key when the expected revision matches, keeping its createRevision', async () => {
        const created = await store.create('/u/a', 'one');
        const updated = await store.update('/u/a', 'two', created);
        expect(updated).toBeGreaterThan(created);
        expect(await store.get('/u/a')).toEqual({ key: '/u/a', value: 'two', createRevision: created, modRevision: updated });
      });

      it('rejects an update with a stale revision, naming the actual one', async () => {
        const created = await store.create('/u/a', 'one');
        const updated = await store.update('/u/a', 'two', created);
        await expect(store.update('/u/a', 'three', created)).rejects.toSatisfy(
          (e) => e instanceof RevisionMismatchError && e.expected === created && e.actual === updated,
        );
        expect((await store.get('/u/a'))?.value).toBe('two');
      });

      it('rejects an update of a missing or deleted key with KeyNotFoundError', async () => {
        await expect(store.update('/u/none', 'x', 0)).rejects.toBeInstanceOf(KeyNotFoundError);
        const created = await store.create('/u/a', 'one');
        await store.delete('/u/a');
        await expect(store.update('/u/a', 'x', created)).rejects.toBeInstanceOf(KeyNotFoundError);
        expect(await store.get('/u/a')).toBeUndefined();
      });

      it('deletes a key unguarded and returns the delete revision and the last value', async () => {
        const created = await store.create('/d/a', 'one');
        const { revision, prev } = await store.delete('/d/a');
        expect(revision).toBe(created + 1);
        expect(prev).toEqual({ key: '/d/a', value: 'one', createRevision: created, modRevision: created });
        expect(await store.get('/d/a')).toBeUndefined();
      });

      it('deletes a key guarded by its revision and refuses a stale guard', async () => {
        const created = await store.create('/d/a', 'one');
        const updated = await store.update('/d/a', 'two', created);
        await expect(store.delete('/d/a', created)).rejects.toSatisfy(
          (e) => e instanceof RevisionMismatchError && e.actual === updated,
        );
        expect((await store.delete('/d/a', updated)).prev.value).toBe('two');
        expect(await store.get('/d/a')).toBeUndefined();
      });

      it('rejects deleting a missing key with KeyNotFoundError', async () => {
        await expect(store.delete('/d/none')).rejects.toBeInstanceOf(KeyNotFoundError);
        await expect(store.delete('/d/none', 5)).rejects.toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe('revision', () => {
      it('gives every successful write the next revision across all keys, and failed writes none', async () => {
        const revisions: number[] = [];
        revisions.push(await store.create('/r/a', '1'));
        revisions.push(await store.create('/r/b', '1'));
        await expect(store.create('/r/a', '2')).rejects.toBeInstanceOf(KeyExistsError);
        revisions.push(await store.update('/r/a', '2', revisions[0]!));
        await expect(store.update('/r/b', '2', revisions[0]!)).rejects.toBeInstanceOf(RevisionMismatchError);
        revisions.push((await store.delete('/r/b')).revision);
        revisions.push(await store.create('/other/c', '1'));
        const first = revisions[0]!;
        expect(revisions).toEqual([first, first + 1, first + 2, first + 3, first + 4]);
        expect(await store.currentRevision()).toBe(first + 4);
      });
    });

    storeWatchContract(current);

    describe('compaction', () => {
      async function writeHistory(): Promise<{ horizon: number; before: number }> {
        const a = await store.create('/c/a', 'a1');
        const before = await store.currentRevision();
        await store.update('/c/a', 'a2', a);
        await store.create('/c/b', 'b1');
        await store.create('/c/gone', 'x');
        await store.delete('/c/gone');
        const horizon = await store.currentRevision();
        await store.compact(horizon);
        return { horizon, before };
      }

      it('rejects lists and watches below the compaction horizon with CompactedError', async () => {
        const { horizon, before } = await writeHistory();
        expect(await store.compactedRevision()).toBe(horizon);
        await expect(store.list('/c/', { revision: before })).rejects.toBeInstanceOf(CompactedError);
        const errors: Error[] = [];
        const error = await new Promise<Error>((resolve) => {
          store.watch('/c/', { fromRevision: before }, () => errors.push(new Error('unexpected event')), resolve);
        });
        expect(error).toBeInstanceOf(CompactedError);
        expect(error).toMatchObject({ compacted: horizon });
        expect(errors).toEqual([]);
      });

      it('keeps the latest value of every live key, and the state at the horizon', async () => {
        const { horizon } = await writeHistory();
        expect((await store.get('/c/a'))?.value).toBe('a2');
        expect(await store.get('/c/gone')).toBeUndefined();
        const atHorizon = await store.list('/c/', { revision: horizon });
        expect(atHorizon.items.map((kv) => [kv.key, kv.value])).toEqual([['/c/a', 'a2'], ['/c/b', 'b1']]);
      });

      it('resumes a watch from the horizon with every later event and its previous value', async () => {
        const { horizon } = await writeHistory();
        const a = (await store.get('/c/a'))!;
        const updated = await store.update('/c/a', 'a3', a.modRevision);
        const events = await new Promise<WatchEvent[]>((resolve, reject) => {
          const got: WatchEvent[] = [];
          store.watch('/c/', { fromRevision: horizon }, (event) => { got.push(event); resolve(got); }, reject);
        });
        expect(events[0]).toMatchObject({ type: 'put', kv: { value: 'a3', modRevision: updated }, prevKv: { value: 'a2' } });
      });
    });

    describe('durability across reopen', () => {
      it('keeps every acknowledged write after a reopen', async (ctx) => {
        if (!opened.reopen) return ctx.skip();
        const a = await store.create('/durable/a', 'a1');
        await store.update('/durable/a', 'a2', a);
        await store.create('/durable/b', 'b1');
        await store.create('/durable/c', 'c1');
        await store.delete('/durable/c');
        const before = await store.list('/durable/');
        store = await opened.reopen();
        expect(await store.list('/durable/')).toEqual(before);
      });

      it('never moves the revision backwards, even after deleting and compacting away the newest key', async (ctx) => {
        if (!opened.reopen) return ctx.skip();
        await store.create('/durable/a', 'a1');
        await store.create('/durable/newest', 'n');
        const deleted = (await store.delete('/durable/newest')).revision;
        await store.compact(deleted);
        store = await opened.reopen();
        expect(await store.currentRevision()).toBeGreaterThanOrEqual(deleted);
        expect(await store.create('/durable/next', 'x')).toBeGreaterThan(deleted);
        expect(await store.compactedRevision()).toBeGreaterThanOrEqual(deleted);
      });
    });
  });
}
