// The watch half of the Store contract (test/contracts/store.contract.ts runs it for every driver).
import { describe, expect, it } from 'vitest';
import type { Store, WatchEvent } from '../../../control-plane/store/store.js';
import { WatchRecorder } from './watch-recorder.js';

/** Writes a sentinel under `prefix` and waits for it: every event before it has been delivered. */
async function flush(store: Store, recorder: WatchRecorder, prefix: string): Promise<WatchEvent[]> {
  const key = `${prefix}~sentinel-${Math.random().toString(36).slice(2)}`;
  const revision = await store.create(key, '');
  await recorder.until(() => recorder.events.some((e) => e.kv.modRevision === revision), `sentinel ${key}`);
  return recorder.events.filter((e) => e.kv.key !== key);
}

export function storeWatchContract(current: () => Store): void {
  describe('watch', () => {
    it('replays history from a revision, then live events, in order and exactly once, with prevKv and created', async () => {
      const store = current();
      const a1 = await store.create('/w/a', 'a1');
      const a2 = await store.update('/w/a', 'a2', a1);
      const b1 = await store.create('/w/b', 'b1');
      const deleted = (await store.delete('/w/a', a2)).revision;
      const recorder = new WatchRecorder(store, '/w/', { fromRevision: a1 });
      const b2 = await store.update('/w/b', 'b2', b1);
      const c1 = await store.create('/w/c', 'c1');
      const kv = (key: string, value: string, createRevision: number, modRevision: number) => ({ key, value, createRevision, modRevision });
      expect(await flush(store, recorder, '/w/')).toEqual([
        { type: 'put', kv: kv('/w/a', 'a2', a1, a2), prevKv: kv('/w/a', 'a1', a1, a1), created: false },
        { type: 'put', kv: kv('/w/b', 'b1', b1, b1), created: true },
        { type: 'delete', kv: kv('/w/a', 'a2', a1, deleted), prevKv: kv('/w/a', 'a2', a1, a2), created: false },
        { type: 'put', kv: kv('/w/b', 'b2', b1, b2), prevKv: kv('/w/b', 'b1', b1, b1), created: false },
        { type: 'put', kv: kv('/w/c', 'c1', c1, c1), created: true },
      ]);
      expect(recorder.errors).toEqual([]);
      recorder.watch.cancel();
    });

    it('delivers writes that commit during a long replay exactly once, in revision order', async () => {
      const store = current();
      const from = await store.currentRevision();
      for (let n = 0; n < 1100; n++) await store.create(`/replay/k${n}`, `${n}`);
      const recorder = new WatchRecorder(store, '/replay/', { fromRevision: from });
      for (let n = 1100; n < 1150; n++) await store.create(`/replay/k${n}`, `${n}`);
      const events = await flush(store, recorder, '/replay/');
      expect(events.map((e) => e.kv.value)).toEqual(Array.from({ length: 1150 }, (_, n) => `${n}`));
      expect(recorder.revisions).toEqual([...recorder.revisions].sort((x, y) => x - y));
      recorder.watch.cancel();
    });

    it('delivers only events under its prefix', async () => {
      const store = current();
      const from = await store.currentRevision();
      const recorder = new WatchRecorder(store, '/registry/pods/default/', { fromRevision: from });
      await store.create('/registry/pods/default2/x', 'no');
      await store.create('/registry/pods/defaul', 'no');
      await store.create('/registry/pods/default0', 'no');
      await store.create('/registry/pods/default/a', 'yes');
      await store.create('/registry/nodes/n1', 'no');
      expect((await flush(store, recorder, '/registry/pods/default/')).map((e) => e.kv.key)).toEqual(['/registry/pods/default/a']);
      recorder.watch.cancel();
    });

    it('skips events up to a future fromRevision', async () => {
      const store = current();
      const from = (await store.currentRevision()) + 2;
      const recorder = new WatchRecorder(store, '/future/', { fromRevision: from });
      await store.create('/future/a', 'skipped');
      await store.create('/future/b', 'skipped');
      await store.create('/future/c', 'seen');
      expect((await flush(store, recorder, '/future/')).map((e) => e.kv.value)).toEqual(['seen']);
      recorder.watch.cancel();
    });

    it('does not replay history when watching from now', async () => {
      const store = current();
      await store.create('/now/old', 'old');
      const recorder = new WatchRecorder(store, '/now/');
      // A remote store registers the watch asynchronously: write until the first event arrives.
      for (let n = 0; recorder.events.length === 0; n++) {
        if (n === 1000) throw new Error('a watch from now never delivered an event');
        await store.create(`/now/new${n}`, 'new');
      }
      expect(recorder.events[0]!.kv.key).toMatch(/^\/now\/new/);
      expect(recorder.events.some((e) => e.kv.key === '/now/old')).toBe(false);
      recorder.watch.cancel();
    });

    it('stops delivering after cancel and after its AbortSignal aborts', async () => {
      const store = current();
      const from = await store.currentRevision();
      const cancelled = new WatchRecorder(store, '/x/', { fromRevision: from });
      const controller = new AbortController();
      const aborted = new WatchRecorder(store, '/x/', { fromRevision: from, signal: controller.signal });
      const witness = new WatchRecorder(store, '/x/', { fromRevision: from });
      await store.create('/x/1', '1');
      await cancelled.untilEvents(1);
      await aborted.untilEvents(1);
      cancelled.watch.cancel();
      controller.abort();
      await store.create('/x/2', '2');
      await flush(store, witness, '/x/');
      expect(witness.events).toHaveLength(3);
      expect(cancelled.events.map((e) => e.kv.key)).toEqual(['/x/1']);
      expect(aborted.events.map((e) => e.kv.key)).toEqual(['/x/1']);
      witness.watch.cancel();
    });

    it('serves many concurrent watchers from different revisions the same ordered events', async () => {
      const store = current();
      const start = await store.currentRevision();
      for (let n = 0; n < 10; n++) await store.create(`/many/h${n}`, `${n}`);
      const recorders = Array.from({ length: 60 }, (_, i) => new WatchRecorder(store, '/many/', { fromRevision: start + (i % 10) }));
      await Promise.all(Array.from({ length: 20 }, (_, n) => store.create(`/many/l${n}`, `${n}`)));
      const last = await store.currentRevision();
      await Promise.all(recorders.map((r) => r.until(() => r.events.at(-1)?.kv.modRevision === last, `revision ${last}`)));
      recorders.forEach((r, i) => {
        const from = start + (i % 10);
        expect(r.revisions).toEqual(Array.from({ length: last - from }, (_, k) => from + 1 + k));
        expect(r.errors).toEqual([]);
        r.watch.cancel();
      });
    });
  });
}
