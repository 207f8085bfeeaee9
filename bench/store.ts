// Prints JSON latency figures (p50/p99, microseconds) of create/get/update for each Store driver.
// Run: node --import tsx bench/store.ts [operations]   (etcd is skipped when /usr/bin/etcd is missing)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEtcdStore } from '../control-plane/store/etcd/etcd-store.js';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../control-plane/store/store.js';
import { isEtcdAvailable, startEtcdServer } from '../test/control-plane/store/etcd-server.js';

const operations = Number(process.argv[2] ?? 2000);

interface Figures { p50Us: number; p99Us: number; opsPerSec: number }

async function time(run: (n: number) => Promise<unknown>): Promise<Figures> {
  const samplesUs: number[] = [];
  const started = performance.now();
  for (let n = 0; n < operations; n++) {
    const t0 = performance.now();
    await run(n);
    samplesUs.push((performance.now() - t0) * 1000);
  }
  const totalMs = performance.now() - started;
  samplesUs.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(samplesUs[Math.min(samplesUs.length - 1, Math.floor(q * samplesUs.length))]!);
  return { p50Us: at(0.5), p99Us: at(0.99), opsPerSec: Math.round((operations / totalMs) * 1000) };
}

async function measure(store: Store): Promise<Record<string, Figures>> {
  const value = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench' }, spec: { padding: 'x'.repeat(600) } });
  const revisions: number[] = [];
  const create = await time(async (n) => (revisions[n] = await store.create(`/bench/pods/p${n}`, value)));
  const get = await time((n) => store.get(`/bench/pods/p${n}`));
  const update = await time(async (n) => (revisions[n] = await store.update(`/bench/pods/p${n}`, value, revisions[n]!)));
  return { create, get, update };
}

const results: Record<string, unknown> = { operations };
const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
try {
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    const store = await openSqliteStore({ path: join(dir, `${synchronous}.db`), synchronous, compactIntervalMs: 0 });
    results[`sqlite-${synchronous.toLowerCase()}`] = await measure(store);
    await store.close();
  }
  if (isEtcdAvailable) {
    const server = await startEtcdServer();
    const store = await openEtcdStore({ endpoints: [server.endpoint] });
    results.etcd = await measure(store);
    await store.close();
    await server.stop();
  } else {
    results.etcd = 'skipped: etcd not installed';
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
