// An acknowledged SqliteStore write survives the writer being killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

const writerPath = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// NORMAL (the control plane's default) must survive a process kill as FULL does; they differ on power loss.
it.each(['FULL', 'NORMAL'])('keeps every acknowledged write after the writer is killed with SIGKILL mid-stream (synchronous=%s)', async (synchronous) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-crash-'));
  dirs.push(dir);
  const path = join(dir, 'state.db');
  const child = spawn(process.execPath, ['--import', 'tsx', writerPath, path, synchronous], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const acknowledged = new Map<string, { value: string; revision: number }>();
  let lastRevision = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^(\S+)=(\S*) (\d+)$/.exec(line);
    if (!match) throw new Error(`unexpected output: ${line}`);
    acknowledged.set(match[1]!, { value: match[2]!, revision: Number(match[3]) });
    lastRevision = Number(match[3]);
    // Kill while writes are in flight, well after the first few.
    if (acknowledged.size === 400 && !child.killed) child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');

  const store = await openSqliteStore({ path, compactIntervalMs: 0 });
  try {
    for (const [key, { value, revision }] of acknowledged) {
      const kv = await store.get(key);
      // The counter may hold one write newer than the last line read; every other key is exact.
      if (key === '/crash/counter') expect(kv!.modRevision).toBeGreaterThanOrEqual(revision);
      else expect(kv).toMatchObject({ key, value, modRevision: revision });
    }
    expect(await store.currentRevision()).toBeGreaterThanOrEqual(lastRevision);
  } finally {
    await store.close();
  }
});
