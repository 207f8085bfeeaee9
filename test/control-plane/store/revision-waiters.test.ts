// RevisionWaiters: each waiter is released exactly when the applied revision reaches its own, in
// any order of arrival, across the array's compaction; checked against a model with seeded cases.
import { describe, expect, it } from 'vitest';
import { RevisionWaiters } from '../../../control-plane/store/watch-cache/revision-waiters.js';
import { seededRandom } from '../../support/seeded-random.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RevisionWaiters', () => {
  it('releases a waiter once the applied revision reaches it, not before', async () => {
    const waiters = new RevisionWaiters();
    const released: number[] = [];
    for (const revision of [5, 3, 3, 9, 7]) void waiters.until(revision).then(() => released.push(revision));
    waiters.advance(2);
    await settle();
    expect(released).toEqual([]);
    waiters.advance(5);
    await settle();
    expect(released.sort()).toEqual([3, 3, 5]);
    expect(waiters.size).toBe(2);
    waiters.releaseAll();
    await settle();
    expect(released.sort()).toEqual([3, 3, 5, 7, 9]);
    expect(waiters.size).toBe(0);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agrees with a model over 5,000 waiters arriving nearly in order (seed ${seed})`, async () => {
      const next = seededRandom(seed);
      const waiters = new RevisionWaiters();
      const pending = new Map<number, number>(); // id -> revision
      const due = new Set<number>(); // reached by an advance made after the waiter arrived
      const released = new Set<number>();
      let applied = 0;
      let id = 0;
      for (let step = 0; step < 5_000; step++) {
        const r = next();
        if (r < 0.6) {
          // a write commits a little ahead of what the cache applied, now and then behind it
          const revision = applied + Math.floor(next() * 40) - (next() < 0.05 ? 5 : 0);
          const mine = id++;
          pending.set(mine, revision);
          void waiters.until(revision).then(() => released.add(mine));
        } else {
          applied += Math.floor(next() * 6);
          waiters.advance(applied);
          for (const [waiter, revision] of pending) if (revision <= applied) due.add(waiter);
        }
        if (step % 97 === 0) {
          await settle();
          for (const [waiter, revision] of pending) {
            expect(released.has(waiter)).toBe(due.has(waiter));
            if (released.has(waiter)) pending.delete(waiter);
            expect(revision <= applied || !due.has(waiter)).toBe(true);
          }
          expect(waiters.size).toBe(pending.size);
        }
      }
      waiters.releaseAll();
      await settle();
      expect(released.size).toBe(id);
    });
  }
});
