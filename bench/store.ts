// Prints JSON latency figures (p50/p99, microseconds) of create/get/update/list for each Store driver,
// bare and behind the WatchCache. list reads a prefix of 1000 keys (among operations + 1000 keys).
// Run: node --import tsx bench/store.ts [operations]   (etcd is skipped when /usr/bin/etcd is missing)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEtcdStore } from '../control-plane/store/etcd/etcd-store.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../control-plane/store/store.js';
import { openWatchCache } from '../control-plane/store/watch-cache/watch-cache.js';
import { isEtcdAvailable, startEtcdServer } from './support/etcd-server.js';

const operations = Number(process.argv[2] ?? 2000);
/** A 1000-key list is ~700 KB from etcd: fewer rounds keep the run short. */
const listOperations = Math.min(operations, 200);
const listedKeys = 1000;

interface Figures { p50Us: number; p99Us: number; opsPerSec: number }

async function time(run: (n: number) => Promise<unknown>, count = operations): Promise<Figures> {
  const samplesUs: number[] = [];
  const started = performance.now();
  for (let n = 0; n < count; n++) {
    const t0 = performance.now();
    await run(n);
    samplesUs.push((performance.now() - t0) * 1000);
  }
  const totalMs = performance.now() - started;
  samplesUs.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(samplesUs[Math.min(samplesUs.length - 1, Math.floor(q * samplesUs.length))]!);
  return { p50Us: at(0.5), p99Us: at(0.99), opsPerSec: Math.round((count / totalMs) * 1000) };
}

async function measure(store: Store): Promise<Record<string, Figures>> {
  const value = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench' }, spec: { padding: 'x'.repeat(600) } });
  const revisions: number[] = [];
  const create = await time(async (n) => (revisions[n] = await store.create(`/bench/pods/p${n}`, value)));
  const get = await time((n) => store.get(`/bench/pods/p${n}`));
  const update = await time(async (n) => (revisions[n] = await store.update(`/bench/pods/p${n}`, value, revisions[n]!)));
  for (let n = 0; n < listedKeys; n++) await store.create(`/bench/listed/p${n}`, value);
  const list = await time(async () => {
    const { items } = await store.list('/bench/listed/');
    if (items.length !== listedKeys) throw new Error(`listed ${items.length} keys, expected ${listedKeys}`);
  }, listOperations);
  return { create, get, update, list };
}

const results: Record<string, unknown> = { operations };
const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
try {
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const store = await openSqliteStore({ path: join(dir, `${synchronous}.db`), synchronous, compactIntervalMs: 0 });
    results[`sqlite-${synchronous.toLowerCase()}`] = await measure(store);
    await store.close();
  }
  const cachedSqlite = await openWatchCache(await openSqliteStore({ path: join(dir, 'cached.db'), compactIntervalMs: 0 }));
  results['cached-sqlite-full'] = await measure(cachedSqlite);
  await cachedSqlite.close();
  if (isEtcdAvailable) {
    const server = await startEtcdServer();
    try {
      const store = await openEtcdStore({ endpoints: [server.endpoint], prefix: '/bare' });
      results.etcd = await measure(store);
      await store.close();
      const cached = await openWatchCache(await openEtcdStore({ endpoints: [server.endpoint], prefix: '/cached' }));
      results['cached-etcd'] = await measure(cached);
      await cached.close();
    } finally {
      await server.stop();
    }
  } else {
    results.etcd = 'skipped: etcd not installed';
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
