// Rows of the kv table (see schema.ts) and their conversion to the Store's KeyValue.
import type { KeyValue } from '../store.js';

export interface KvRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** A replayed row joined with the row it replaced (null columns for a create). */
export interface KvRowWithPrev extends KvRow {
  prev_value: string | null;
  prev_create_revision: number | null;
}

export function rowToKeyValue(row: KvRow): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

export function isLive(row: KvRow | undefined): row is KvRow {
  return row !== undefined && row.deleted === 0;
}
