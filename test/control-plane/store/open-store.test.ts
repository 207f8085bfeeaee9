// openStore: store URLs -> drivers; unknown or malformed URLs fail loudly.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore, UnsupportedStoreUrlError } from '../../../control-plane/store/open-store.js';
import type { SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skiff-open-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('opens sqlite at DATA_DIR/state.db by default', async () => {
  const store = await openStore('sqlite', dataDir);
  await store.create('/a', '1');
  await store.close();
  expect(existsSync(join(dataDir, 'state.db'))).toBe(true);
});

it('opens sqlite://PATH, relative to the data dir, creating missing folders', async () => {
  const store = await openStore('sqlite://nested/dir/custom.db', dataDir);
  await store.close();
  expect(existsSync(join(dataDir, 'nested/dir/custom.db'))).toBe(true);
  const absolute = await openStore(`sqlite://${join(dataDir, 'abs.db')}`, '/nonexistent');
  await absolute.close();
  expect(existsSync(join(dataDir, 'abs.db'))).toBe(true);
});

it.each(['postgres://localhost/db', 'sqlite:', 'sqlite://', 'etcd://', 'etcd://host', 'etcd://h:1/path', 'etcd://u:p@h:1', ''])(
  'refuses the store URL %j',
  async (url) => {
    await expect(openStore(url, dataDir)).rejects.toBeInstanceOf(UnsupportedStoreUrlError);
  },
);

it('sets SQLite durability from ?synchronous=, normal by default', async () => {
  const modeOf = async (url: string) => {
    const store = (await openStore(url, dataDir, { cache: false })) as SqliteStore;
    const mode = store.synchronous;
    await store.close();
    return mode;
  };
  expect(await modeOf('sqlite')).toBe('NORMAL');
  expect(await modeOf('sqlite?synchronous=full')).toBe('FULL');
  expect(await modeOf('sqlite://full.db?synchronous=full')).toBe('FULL');
  expect(existsSync(join(dataDir, 'full.db'))).toBe(true);
  await expect(openStore('sqlite://x.db?synchronous=sometimes', dataDir)).rejects.toThrow(/normal or full/);
  await expect(openStore('sqlite://x.db?cache=shared', dataDir)).rejects.toThrow(/unknown option "cache"/);
});
