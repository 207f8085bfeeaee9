// Replay: turns logged rows back into the WatchEvents they produced when written.
import type { KeyValue, WatchEvent } from '../store.js';
import { rowToKeyValue, type KvRowWithPrev } from './kv-row.js';

export function rowToEvent(row: KvRowWithPrev): WatchEvent {
  // The predecessor survives compaction whenever its successor does (see schema.ts), so a
  // missing one means a create.
  const prevKv: KeyValue | undefined =
    row.prev_value === null || row.prev_create_revision === null
      ? undefined
      : { key: row.name, value: row.prev_value, createRevision: row.prev_create_revision, modRevision: row.prev_revision };
  if (row.deleted === 1) {
    const kv = { key: row.name, value: prevKv?.value ?? '', createRevision: row.create_revision, modRevision: row.id };
    return prevKv ? { type: 'delete', kv, prevKv, created: false } : { type: 'delete', kv, created: false };
  }
  const kv = rowToKeyValue(row);
  return prevKv ? { type: 'put', kv, prevKv, created: false } : { type: 'put', kv, created: row.created === 1 };
}
