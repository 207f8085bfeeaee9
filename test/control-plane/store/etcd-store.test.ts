// EtcdStore: the Store contract against a real etcd started on loopback (skipped without /usr/bin/etcd).
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeContract } from '../../contracts/store.contract.js';
import { openEtcdStore } from '../../../control-plane/store/etcd/etcd-store.js';
import { openStore } from '../../../control-plane/store/open-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { WatchRecorder } from './watch-recorder.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ETCD_BINARY, isEtcdAvailable, startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';

if (!isEtcdAvailable) console.log(`etcd store suite skipped: ${ETCD_BINARY} not found`);

describe.skipIf(!isEtcdAvailable)('EtcdStore', () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await startEtcdServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Each test gets its own key prefix on the shared server; revisions are cluster-wide. A reopen
  // SIGKILLs etcd and starts it again, so acknowledged writes must be on its disk.
  storeContract('etcd', async () => {
    const options = { endpoints: [server.endpoint], prefix: `/test-${nanoid(8)}` };
    let store: Store = await openEtcdStore(options);
    return {
      store,
      reopen: async () => {
        await store.close();
        await server.crashAndRestart();
        store = await openEtcdStore(options);
        return store;
      },
      cleanup: () => store.close(),
    };
  });

  it('resumes a watch across an etcd crash and restart without losing or repeating events', async () => {
    const store = await openEtcdStore({ endpoints: [server.endpoint], prefix: `/test-${nanoid(8)}` });
    try {
      const from = await store.currentRevision();
      for (let n = 0; n < 5; n++) await store.create(`/resume/k${n}`, `${n}`);
      const recorder = new WatchRecorder(store, '/resume/', { fromRevision: from });
      await recorder.untilEvents(5);
      await server.crashAndRestart();
      // The client reconnects on its own; writes may be refused until it has.
      for (let n = 5; n < 10; n++) await retryUntilAccepted(() => store.create(`/resume/k${n}`, `${n}`));
      await recorder.untilEvents(10);
      await store.create('/resume/~last', '');
      await recorder.untilEvents(11);
      expect(recorder.events.map((e) => e.kv.value)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '']);
      expect(recorder.errors).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('catches a watch up over more than 4 MiB of history (etcd sends up to 1,000 revisions in one message)', async () => {
    const store = await openEtcdStore({ endpoints: [server.endpoint], prefix: `/test-${nanoid(8)}` });
    try {
      const from = await store.currentRevision();
      const value = 'v'.repeat(4_000); // with its previous value, 1,000 revisions are about 8 MB
      const revisions = new Map<string, number>();
      for (let n = 0; n < 1_200; n += 50) {
        await Promise.all(Array.from({ length: 50 }, async (_, i) => {
          const key = `/big/k${(n + i) % 100}`;
          const previous = revisions.get(key);
          revisions.set(key, previous === undefined ? await store.create(key, value) : await store.update(key, value, previous));
        }));
      }
      const recorder = new WatchRecorder(store, '/big/', { fromRevision: from });
      await recorder.untilEvents(1_200, 30_000);
      expect(recorder.errors).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('opens from an etcd:// URL with no key prefix', async () => {
    const store = await openStore(server.endpoint.replace('http://', 'etcd://'), '/nonexistent');
    try {
      expect(await store.currentRevision()).toBeGreaterThan(0);
      const root = await store.list('/');
      expect(root.items.length).toBeGreaterThan(0);
      expect(root.items.every((kv) => kv.key.startsWith('/test-'))).toBe(true);
    } finally {
      await store.close();
    }
  });

  // Last: etcd's compaction is cluster-wide, and the tests above watch from older revisions.
  it('compacts history up to the revision seen one interval before, on its own clock', async () => {
    // A clock far from the wall clock: the gRPC deadlines are still taken from the wall clock.
    const clock = new FakeClock(Date.UTC(2020, 0, 1));
    const store = await openEtcdStore({ endpoints: [server.endpoint], prefix: `/test-${nanoid(8)}`, clock, compactIntervalMs: 60_000 });
    try {
      await store.create('/compact/a', '1');
      const seen = await store.currentRevision();
      clock.advance(60_000); // remembers the revision now (nothing is compacted yet)
      const written = await store.create('/compact/b', '2');
      expect(await store.compactedRevision()).toBeLessThan(seen);
      clock.advance(60_000); // compacts up to what the first tick saw
      const latest = await store.create('/compact/c', '3');
      await until(async () => (await store.compactedRevision()) >= seen, `compaction to ${seen}`);
      // The first tick's read may have been answered before or after b's write (they race), never after c's.
      expect([seen, written]).toContain(await store.compactedRevision());
      expect(await store.compactedRevision()).toBeLessThan(latest);
      expect((await store.list('/compact/')).items.map((kv) => kv.value)).toEqual(['1', '2', '3']);
    } finally {
      await store.close();
    }
  });
});

/** Polls `isMet` until it holds, up to a deadline. */
async function until(isMet: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isMet())) {
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval, not a wait for an outcome
  }
}

/** Retries a write refused while the client reconnects (UNAVAILABLE), up to a deadline. */
async function retryUntilAccepted<T>(write: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() > deadline || !/UNAVAILABLE|unavailable|closed|ECONNREFUSED/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100)); // reconnect backoff, not a wait for an outcome
    }
  }
}
