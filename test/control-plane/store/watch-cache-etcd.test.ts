// WatchCache over etcd: the Store contract, and a cache that rides out an etcd crash (skipped without /usr/bin/etcd).
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeContract } from '../../contracts/store.contract.js';
import { openEtcdStore } from '../../../control-plane/store/etcd/etcd-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { openWatchCache } from '../../../control-plane/store/watch-cache/watch-cache.js';
import { ETCD_BINARY, isEtcdAvailable, startEtcdServer, type EtcdServer } from '../../../bench/support/etcd-server.js';
import { WatchRecorder } from './watch-recorder.js';

if (!isEtcdAvailable) console.log(`watch cache etcd suite skipped: ${ETCD_BINARY} not found`);

describe.skipIf(!isEtcdAvailable)('WatchCache over etcd', () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await startEtcdServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const openCache = (prefix: string): Promise<Store> => openEtcdStore({ endpoints: [server.endpoint], prefix }).then((etcd) => openWatchCache(etcd));

  storeContract('watch cache over etcd', async () => {
    const prefix = `/test-${nanoid(8)}`;
    let store = await openCache(prefix);
    return {
      store,
      reopen: async () => {
        await store.close();
        await server.crashAndRestart();
        store = await openCache(prefix);
        return store;
      },
      cleanup: () => store.close(),
    };
  });

  it('keeps its watchers across an etcd crash and restart, without losing or repeating events', async () => {
    const store = await openCache(`/test-${nanoid(8)}`);
    try {
      const from = await store.currentRevision();
      const recorder = new WatchRecorder(store, '/resume/', { fromRevision: from });
      for (let n = 0; n < 5; n++) await store.create(`/resume/k${n}`, `${n}`);
      await server.crashAndRestart();
      for (let n = 5; n < 10; n++) await retryUntilAccepted(() => store.create(`/resume/k${n}`, `${n}`));
      await recorder.untilEvents(10);
      expect(recorder.events.map((e) => e.kv.value)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(recorder.errors).toEqual([]);
      expect((await store.list('/resume/')).items).toHaveLength(10);
    } finally {
      await store.close();
    }
  });
});

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
