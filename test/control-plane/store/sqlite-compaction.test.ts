// Compaction deletes history in chunks within turns of the event loop (compact.ts): a compaction
// of many rows never holds the loop, and what it leaves is the state at its horizon.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../api/clock.js';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

/** A clock whose every reading is 10 ms after the last: each turn's budget is spent after one chunk. */
function steppingClock(): Clock {
  let now = 0;
  return { now: () => (now += 10), setTimeout: systemClock.setTimeout, setInterval: systemClock.setInterval };
}

describe('SqliteStore compaction', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-compaction-'));
    store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0, clock: steppingClock(), compactionPace: { chunkRevisions: 100, turnMs: 4 } });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes in chunks across turns of the event loop, and writes go on between them', async () => {
    let revision = await store.create('/r/counter', '0');
    for (let n = 1; n < 1000; n++) revision = await store.update('/r/counter', `${n}`, revision);
    const doomed = await store.create('/r/doomed', 'x');
    await store.delete('/r/doomed', doomed);
    const horizon = await store.currentRevision();

    let turns = 0;
    let done = false;
    const compacted = store.compact(horizon).then(() => { done = true; });
    // the horizon is recorded at once: reads below it are refused from now on
    expect(await store.compactedRevision()).toBe(horizon);
    const ticking = (async () => {
      while (!done) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
    })();
    // writes commit while the compaction is under way
    const during = [await store.create('/w/during-0', 'v'), await store.create('/w/during-1', 'v')];
    const finishedFirst = done;
    await compacted;
    await ticking;
    expect(finishedFirst).toBe(false);
    // 1,002 revisions in chunks of 100, one chunk a turn (the clock says each took 10 ms)
    expect(turns).toBeGreaterThanOrEqual(9);
    expect(during).toHaveLength(2);
    expect((await store.get('/r/counter'))?.value).toBe('999');
    expect(await store.get('/r/doomed')).toBeUndefined();
    expect((await store.list('/w/')).items).toHaveLength(2);
    // one live row per key remains: reopening sees the same state, and the horizon
    await store.close();
    store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
    expect(await store.compactedRevision()).toBe(horizon);
    expect((await store.list('/r/')).items.map((kv) => kv.value)).toEqual(['999']);
  });
});
