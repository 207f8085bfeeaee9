// openStore: a store URL from the command line -> a connected Store driver.
//
//   sqlite               DATA_DIR/state.db
//   sqlite://PATH        PATH, resolved against DATA_DIR when relative (sqlite:///abs/state.db)
//   ...?synchronous=full  fsync every commit (survives power loss). Default normal: WAL with
//                        synchronous=NORMAL survives a crash or kill -9 of the control plane, never
//                        corrupts, and may lose the last commits on power loss (docs/decisions/004).
//   etcd://HOST:PORT[,HOST:PORT...]   an etcd v3 cluster over plain HTTP
// The driver comes wrapped in a WatchCache (reads and watches from memory) unless `cache: false`.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { SqliteSynchronous } from './sqlite/schema.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { ObservedStore, type StoreObserver } from './observed-store.js';
import type { Store } from './store.js';
import { openWatchCache, type WatchCacheOptions } from './watch-cache/watch-cache.js';

export interface OpenStoreOptions {
  /** false: the bare driver (tools, benchmarks); otherwise the cache's options. Default: a cache with defaults. */
  cache?: false | WatchCacheOptions;
  /** Times every call to the driver (metrics). */
  observer?: StoreObserver;
}

export class UnsupportedStoreUrlError extends Error {
  override readonly name = 'UnsupportedStoreUrlError';
  constructor(readonly url: string, reason: string) {
    super(`unsupported store URL ${JSON.stringify(url)}: ${reason} (use sqlite, sqlite://PATH[?synchronous=full] or etcd://HOST:PORT[,HOST:PORT])`);
  }
}

export async function openStore(url: string, dataDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  const bare = await openDriver(url, dataDir);
  const driver = options.observer ? new ObservedStore(bare, options.observer) : bare;
  if (options.cache === false) return driver;
  return openWatchCache(driver, options.cache).catch(async (error: unknown) => {
    await driver.close();
    throw error;
  });
}

async function openDriver(url: string, dataDir: string): Promise<Store> {
  if (url === 'sqlite' || url.startsWith('sqlite?') || url.startsWith('sqlite://')) {
    const [base, query = ''] = url.split('?', 2) as [string, string?];
    const path = base === 'sqlite' ? 'state.db' : base.slice('sqlite://'.length);
    if (path === '') throw new UnsupportedStoreUrlError(url, 'no file path');
    return openSqliteFile(resolve(dataDir, path), sqliteSynchronous(url, query));
  }
  if (url.startsWith('etcd://')) {
    // etcd3 (gRPC, protobuf) costs about a second to load: only an etcd store pays for it
    const { openEtcdStore } = await import('./etcd/etcd-store.js');
    return openEtcdStore({ endpoints: parseEtcdEndpoints(url) });
  }
  throw new UnsupportedStoreUrlError(url, 'unknown scheme');
}

async function openSqliteFile(path: string, synchronous: SqliteSynchronous): Promise<Store> {
  await mkdir(dirname(path), { recursive: true });
  return openSqliteStore({ path, synchronous });
}

function sqliteSynchronous(url: string, query: string): SqliteSynchronous {
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (key !== 'synchronous') throw new UnsupportedStoreUrlError(url, `unknown option ${JSON.stringify(key)}`);
  }
  const value = (params.get('synchronous') ?? 'normal').toUpperCase();
  if (value !== 'NORMAL' && value !== 'FULL') throw new UnsupportedStoreUrlError(url, 'synchronous must be normal or full');
  return value;
}

function parseEtcdEndpoints(url: string): string[] {
  const hosts = url.slice('etcd://'.length).split(',');
  for (const host of hosts) {
    // HOST:PORT only: a path, query or credentials here would be silently ignored, so refuse them.
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(host)) {
      throw new UnsupportedStoreUrlError(url, `endpoint ${JSON.stringify(host)} is not HOST:PORT`);
    }
  }
  return hosts.map((host) => `http://${host}`);
}
