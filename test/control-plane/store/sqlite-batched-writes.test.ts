// SqliteStore batches the writes of one event-loop turn into one transaction; a failed guard fails its write alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { KeyExistsError, RevisionMismatchError, type WatchEvent } from '../../../control-plane/store/store.js';
import { seededRandom } from '../../support/seeded-random.js';

describe('batched SQLite writes', () => {
  let dir: string | undefined;
  let store: SqliteStore | undefined;
  afterEach(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const open = async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-batch-'));
    store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
    return store;
  };

  it('commits a turn of writes in one transaction; a failed guard fails that write alone', async () => {
    const s = await open();
    const events: WatchEvent[] = [];
    s.watch('/k/', {}, (e) => events.push(e));
    const a = await s.create('/k/a', '1');
    const before = s.batches;
    const results = await Promise.allSettled([
      s.create('/k/b', '1'),
      s.update('/k/a', '2', a),
      s.update('/k/a', '3', a), // same guard, second in the batch: sees the first's write
      s.create('/k/b', 'again'),
      s.delete('/k/a'),
    ]);
    expect(s.batches - before).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionMismatchError);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(KeyExistsError);
    expect(await s.currentRevision()).toBe(a + 3);
    expect((await s.get('/k/a'))).toBeUndefined();
    expect((await s.get('/k/b'))?.value).toBe('1');
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => [e.type, e.kv.key, e.kv.modRevision])).toEqual([
      ['put', '/k/a', a], ['put', '/k/b', a + 1], ['put', '/k/a', a + 2], ['delete', '/k/a', a + 3],
    ]);
  });

  it('gives, over seeded random concurrent writes, what one write at a time gives (revisions dense, values last-writer)', async () => {
    const s = await open();
    const next = seededRandom(48);
    const model = new Map<string, { value: string; rev: number }>();
    for (let round = 0; round < 30; round++) {
      const ops = Array.from({ length: 1 + Math.floor(next() * 40) }, () => {
        const key = `/k/${Math.floor(next() * 10)}`;
        const value = String(next());
        const r = next();
        return r < 0.4 ? { kind: 'create' as const, key, value } : r < 0.8 ? { kind: 'update' as const, key, value, guard: model.get(key)?.rev ?? 1 } : { kind: 'delete' as const, key };
      });
      const settled = await Promise.allSettled(ops.map((op) => op.kind === 'create' ? s.create(op.key, op.value)
        : op.kind === 'update' ? s.update(op.key, op.value, op.guard) : s.delete(op.key)));
      // replay the model in submission order: what succeeded is what a serial store accepts
      let rev = Math.max(0, ...[...model.values()].map((v) => v.rev));
      for (const [i, op] of ops.entries()) {
        const cur = model.get(op.key);
        const ok = op.kind === 'create' ? !cur : op.kind === 'update' ? cur?.rev === op.guard : Boolean(cur);
        expect(settled[i]!.status).toBe(ok ? 'fulfilled' : 'rejected');
        if (!ok) continue;
        rev = (await s.currentRevision()) - ops.slice(i + 1).filter((_, j) => settled[i + 1 + j]!.status === 'fulfilled').length;
        if (op.kind === 'delete') model.delete(op.key);
        else model.set(op.key, { value: op.value, rev });
      }
    }
    for (let k = 0; k < 10; k++) expect((await s.get(`/k/${k}`))?.value).toBe(model.get(`/k/${k}`)?.value);
  });
});
