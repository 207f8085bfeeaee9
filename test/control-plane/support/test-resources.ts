// A ResourceStore over a throwaway in-memory SQLite store, with a fake clock and predictable uids.
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { ensureInitialNamespaces, ensureSystemPriorityClasses } from '../../../control-plane/resources/initial-namespaces.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import type { Pod } from '../../../api/types/pod.js';
import { FakeClock } from '../../support/fake-clock.js';

export interface TestResources {
  resources: ResourceStore;
  store: Store;
  clock: FakeClock;
  close(): Promise<void>;
}

export async function openTestResources(options: { bookmarkIntervalMs?: number; keepRevisions?: number } = {}): Promise<TestResources> {
  const clock = new FakeClock();
  const store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0, keepRevisions: options.keepRevisions, clock });
  let n = 0;
  const resources = new ResourceStore(store, { clock, uid: () => `uid-${++n}`, bookmarkIntervalMs: options.bookmarkIntervalMs });
  await ensureInitialNamespaces(resources);
  await ensureSystemPriorityClasses(resources);
  return { resources, store, clock, close: () => store.close() };
}

/** A minimal valid Pod; `overrides` are merged into metadata and spec. */
export function aPod(name: string, overrides: { namespace?: string; labels?: Record<string, string>; nodeName?: string; image?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: overrides.namespace ?? 'default', ...(overrides.labels ? { labels: overrides.labels } : {}) },
    spec: {
      containers: [{ name: 'main', image: overrides.image ?? 'registry.local/hello:1.0' }],
      ...(overrides.nodeName ? { nodeName: overrides.nodeName } : {}),
    },
  };
}

/** Collects async callbacks until `count` arrived; resolves without polling or sleeping. */
export function collector<T>() {
  const items: T[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    items,
    push(item: T) {
      items.push(item);
      for (const w of [...waiters]) if (items.length >= w.count) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    },
    async waitFor(count: number): Promise<T[]> {
      if (items.length < count) await new Promise<void>((resolve) => waiters.push({ count, resolve }));
      return items;
    },
  };
}
