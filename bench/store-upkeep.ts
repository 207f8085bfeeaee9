// The SQLite store's upkeep, alone: what a compaction and the WAL checkpoints take of the event loop
// that writes. Fills a store with `keys` pod-sized values written four times each (a pod's create,
// binding, Scheduled Event-sized write, Running), then compacts all history and times the gaps between
// event-loop turns while it runs (chunked, compact.ts; `chunkRevisions` = 'one' for one DELETE, as
// before). During the fill, the writer's own checkpoints and the worker's are counted (checkpointer.ts).
// Prints JSON. Usage: node dist/bench/store-upkeep.js [keys=25000] [chunkRevisions=250|one]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../control-plane/store/sqlite/sqlite-store.js';
import { summarize } from './percentiles.js';

const keys = Number(process.argv[2] ?? 25_000);
const chunkArg = process.argv[3];
const chunkRevisions = chunkArg === 'one' ? Number.MAX_SAFE_INTEGER : chunkArg ? Number(chunkArg) : undefined;
const BATCH = 500;
const VALUE = 'x'.repeat(2000);

const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-upkeep-'));
const store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0, synchronous: 'NORMAL', compactionPace: { chunkRevisions } });
try {
  const fillStart = performance.now();
  for (let i = 0; i < keys; i += BATCH) {
    const names = Array.from({ length: Math.min(BATCH, keys - i) }, (_, k) => `/registry/core/pods/fleet/p-${i + k}`);
    const revisions = await Promise.all(names.map((name) => store.create(name, VALUE)));
    for (let w = 0; w < 3; w++) {
      await Promise.all(names.map(async (name, k) => { revisions[k] = await store.update(name, `${VALUE}${w}`, revisions[k]!); }));
    }
  }
  const fillMs = performance.now() - fillStart;

  const gaps: number[] = [];
  let last = performance.now();
  let done = false;
  const tick = (): void => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  const revision = await store.currentRevision();
  const start = performance.now();
  setImmediate(tick);
  await store.compact(revision);
  const compactMs = performance.now() - start;
  done = true;
  // one DELETE ends before the first turn: its whole length is the one turn it held
  const turns = gaps.length > 0 ? gaps : [compactMs];
  console.log(JSON.stringify({
    keys, revisions: revision, chunkRevisions: chunkArg ?? 'default (250)',
    fill: { ms: Math.round(fillMs), workerCheckpoints: store.checkpoints, writerCheckpoints: store.writerCheckpoints, writerCheckpointFrames: store.writerCheckpointFrames },
    compaction: { ms: Math.round(compactMs), turns: turns.length, turnMs: summarize(turns) },
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  }, null, 2));
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
