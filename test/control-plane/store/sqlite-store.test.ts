// SqliteStore: the Store contract on a temp file, plus what only the embedded driver promises.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeContract } from '../../contracts/store.contract.js';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { CompactedError, WatchOverflowError, type Store } from '../../../control-plane/store/store.js';
import { FakeClock } from '../../support/fake-clock.js';
import { WatchRecorder } from './watch-recorder.js';

storeContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  const path = join(dir, 'state.db');
  let store: Store = await openSqliteStore({ path, compactIntervalMs: 0 });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = await openSqliteStore({ path, compactIntervalMs: 0 });
      return store;
    },
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;
  const open = async (options: Partial<SqliteStoreOptions> = {}): Promise<SqliteStore> => {
    store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0, ...options });
    return store;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('pages past runs of deleted keys: every page full until the last, at the current and at an older revision', async () => {
    await open();
    for (let i = 0; i < 30; i++) await store.create(`/k/${String(i).padStart(2, '0')}`, `v${i}`);
    const before = await store.currentRevision();
    for (let i = 0; i < 30; i++) if (i % 5 !== 0 && i !== 29) await store.delete(`/k/${String(i).padStart(2, '0')}`);
    const pages = async (revision?: number) => {
      const seen: string[][] = [];
      let startKey: string | undefined;
      for (;;) {
        const page = await store.list('/k/', { limit: 2, ...(startKey ? { startKey } : {}), ...(revision ? { revision } : {}) });
        seen.push(page.items.map((kv) => kv.key.slice(3)));
        if (!page.more) return seen;
        startKey = page.nextKey;
      }
    };
    expect(await pages()).toEqual([['00', '05'], ['10', '15'], ['20', '25'], ['29']]);
    expect((await pages(before)).flat()).toEqual(Array.from({ length: 30 }, (_, i) => String(i).padStart(2, '0')));
  });

  it('ends a watch with WatchOverflowError when it falls behind its buffer, without failing writes', async () => {
    await open({ maxBufferedEventsPerWatcher: 10 });
    const recorder = new WatchRecorder(store, '/o/');
    // Twenty writes commit in one synchronous burst, before the watcher can drain.
    const revisions = await Promise.all(Array.from({ length: 20 }, (_, n) => store.create(`/o/k${n}`, 'v')));
    expect(await recorder.untilError()).toBeInstanceOf(WatchOverflowError);
    expect(revisions).toHaveLength(20);
    expect(recorder.events).toEqual([]);
  });

  it('keeps up with a writer awaiting in a tight loop far past the buffer bound', async () => {
    await open({ maxBufferedEventsPerWatcher: 10 });
    const recorder = new WatchRecorder(store, '/o/');
    for (let n = 0; n < 200; n++) await store.create(`/o/k${n}`, 'v');
    await recorder.untilEvents(200);
    expect(recorder.errors).toEqual([]);
  });

  it('ends a watch with the error its callback throws, and keeps serving other watchers', async () => {
    await open();
    const errors: Error[] = [];
    store.watch('/t/', {}, () => { throw new Error('consumer bug'); }, (error) => errors.push(error));
    const healthy = new WatchRecorder(store, '/t/');
    await store.create('/t/a', '1');
    await store.create('/t/b', '2');
    await healthy.untilEvents(2);
    expect(errors.map((e) => e.message)).toEqual(['consumer bug']);
  });

  it('fails a replaying watch with CompactedError when compaction overtakes it between pages', async () => {
    await open();
    let revision = await store.create('/r/k', '0');
    for (let n = 1; n < 1200; n++) revision = await store.update('/r/k', `${n}`, revision);
    const recorder = new WatchRecorder(store, '/r/', { fromRevision: 0 });
    // Compact as soon as the first replayed page starts arriving; its later pages are gone.
    await recorder.untilEvents(1);
    await store.compact(revision);
    expect(await recorder.untilError()).toBeInstanceOf(CompactedError);
    expect(recorder.revisions).toEqual(Array.from({ length: recorder.events.length }, (_, k) => k + 1));
    expect(recorder.events.length).toBeLessThan(1200);
  });

  it('compacts history older than keepRevisions on its interval, keeping live values', async () => {
    const clock = new FakeClock();
    await open({ compactIntervalMs: 60_000, keepRevisions: 5, clock });
    let revision = await store.create('/a/counter', '0');
    for (let n = 1; n <= 20; n++) revision = await store.update('/a/counter', `${n}`, revision);
    clock.advance(59_999);
    expect(await store.compactedRevision()).toBe(0);
    clock.advance(1);
    expect(await store.compactedRevision()).toBe(revision - 5);
    expect((await store.get('/a/counter'))?.value).toBe('20');
  });

  it.skipIf(!existsSync('/usr/bin/sqlite3'))('is readable with the sqlite3 shell while open', async () => {
    await open();
    const created = await store.create('/registry/pods/default/a', '{"kind":"Pod"}');
    await store.delete('/registry/pods/default/a');
    const rows = execFileSync('/usr/bin/sqlite3', [join(dir, 'state.db'), 'SELECT id, name, created, deleted, value FROM kv ORDER BY id'], { encoding: 'utf8' });
    expect(rows.trim().split('\n')).toEqual([
      `${created}|/registry/pods/default/a|1|0|{"kind":"Pod"}`,
      `${created + 1}|/registry/pods/default/a|0|1|`,
    ]);
  });
});
