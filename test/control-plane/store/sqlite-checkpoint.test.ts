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
    const store = await openSqliteStore({ path, compactIntervalMs: 0, checkpointWrites: 100 });
    try {
      await writeMany(store, 10_000);
      await until(() => store.checkpoints >= 10);
      // 10,000 values of 2 KB are over 20 MB of log if it never started over; a checkpoint per 100
      // writes keeps it to what is written while one runs (the bound leaves room for a worker
      // starved on a loaded machine: its high-water mark reached 2.9 MB at load 12)
      expect(statSync(`${path}-wal`).size).toBeLessThan(8 * 2 ** 20);
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
