// listEverything: every key of a Store at one revision, read page by page (to fill or refill the cache).
import { CompactedError, type KeyValue, type Store } from '../store.js';

export interface Snapshot {
  items: KeyValue[];
  revision: number;
}

/**
 * Pages are read at the first page's revision. Compaction can overtake a long read and leave that
 * revision unreadable; the read then starts over, up to `attempts` times.
 */
export async function listEverything(store: Store, pageSize: number, attempts = 3): Promise<Snapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listOnce(store, pageSize);
    } catch (error) {
      if (!(error instanceof CompactedError) || attempt >= attempts) throw error;
    }
  }
}

async function listOnce(store: Store, pageSize: number): Promise<Snapshot> {
  let page = await store.list('', { limit: pageSize });
  const revision = page.revision;
  const items = [...page.items];
  while (page.more) {
    page = await store.list('', { limit: pageSize, startKey: page.nextKey, revision });
    for (const kv of page.items) items.push(kv);
  }
  return { items, revision };
}
