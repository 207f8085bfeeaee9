// The write-ahead log is copied into the database file by a worker thread (checkpointer.ts), not
// inside the commits of the connection that writes on the event loop, and the log still starts over.
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

const VALUE = 'x'.repeat(2000); // about a pod's size: two writes fill a page

async function writeMany(store: SqliteStore, count: number, batch = 50): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, k) => store.create(`/registry/core/pods/ns/p${i + k}`, VALUE)));
  }
}

async function until(condition: () => boolean, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('SqliteStore checkpoints', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'skiff-checkpoint-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('runs them on a worker every checkpointWrites writes, and the log starts over instead of growing', async () => {
    const path = join(dir, 'state.db');
    const store = await openSqliteStore({ path, compactIntervalMs: 0, checkpointWrites: 100, maxLogFrames: 1000 });
    try {
      await writeMany(store, 10_000);
      await until(() => store.checkpoints >= 10);
      // 10,000 values of 2 KB are over 20 MB of log if it never started over (37 MB measured); it
      // starts over when the worker finds it wholly copied, or past maxLogFrames (4 MB here) when
      // the writer copies the rest; the file keeps its high-water mark, which adds what was written
      // during the worker's last request (13.6 MB seen with six test files at load 30)
      expect(statSync(`${path}-wal`).size).toBeLessThan(18 * 2 ** 20);
    } finally {
      await store.close();
    }
    const reopened = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      expect((await reopened.list('/registry/core/pods/ns/')).items).toHaveLength(10_000);
      expect((await reopened.get('/registry/core/pods/ns/p9999'))?.value).toBe(VALUE);
    } finally {
      await reopened.close();
    }
  });

  it('leaves the writer a checkpoint of its own only when the log outgrew maxLogFrames', async () => {
    const path = join(dir, 'state.db');
    const store = await openSqliteStore({ path, compactIntervalMs: 0, checkpointWrites: 1000 });
    try {
      await writeMany(store, 20_000);
      await until(() => store.checkpoints >= 15);
      // the writer used to copy, after each of the worker's checkpoints, what it had committed
      // meanwhile (with two fsyncs: 20-230 ms of the event loop on a busy disk). Now it copies only
      // when the worker has not found the log wholly copied for ~10,000 frames (1,000 writes of
      // 2 KB are ~1,200 frames): at most one checkpoint of the writer's in about eight
      expect(store.writerCheckpoints).toBeLessThanOrEqual(store.checkpoints / 4);
    } finally {
      await store.close();
    }
  });

  it('checkpoints on the writer when the log outgrows maxLogFrames without a clean pass', async () => {
    const path = join(dir, 'state.db');
    // one pass per request is clean only when the writer committed nothing since the last pass (a
    // request queued behind the running one can be): the log starts over mostly through the
    // writer's own checkpoints, which a bound of one frame asks for after every unclean request;
    // without them the log would rarely start over (over 20 MB here)
    const store = await openSqliteStore({ path, compactIntervalMs: 0, checkpointWrites: 100, checkpointPasses: 1, maxLogFrames: 1 });
    try {
      await writeMany(store, 10_000);
      await until(() => store.checkpoints >= 10);
      expect(store.writerCheckpoints).toBeGreaterThan(0);
      expect(statSync(`${path}-wal`).size).toBeLessThan(18 * 2 ** 20);
    } finally {
      await store.close();
    }
  });

  it('leaves them to SQLite with checkpointWrites 0, and for a store in memory', async () => {
    const own = await openSqliteStore({ path: join(dir, 'own.db'), compactIntervalMs: 0, checkpointWrites: 0 });
    const memory = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    try {
      await writeMany(own, 600);
      await writeMany(memory, 600);
      expect(own.checkpoints).toBe(0);
      expect(memory.checkpoints).toBe(0);
      expect((await own.list('/registry/core/pods/ns/')).items).toHaveLength(600);
    } finally {
      await own.close();
      await memory.close();
    }
  });
});
