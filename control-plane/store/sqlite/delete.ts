// delete: append a tombstone row (value '') replacing the live one, optionally guarded.
import { KeyNotFoundError, RevisionMismatchError, type WatchEvent } from '../store.js';
import { isLive, rowToKeyValue } from './kv-row.js';
import type { SqliteStatements } from './sqlite-statements.js';

export function deleteKey(
  st: SqliteStatements,
  revision: number,
  key: string,
  expectedModRevision: number | undefined,
): WatchEvent {
  const current = st.latest.get(key);
  if (!isLive(current)) throw new KeyNotFoundError(key);
  if (expectedModRevision !== undefined && current.id !== expectedModRevision) {
    throw new RevisionMismatchError(key, expectedModRevision, current.id);
  }
  st.insert.run(revision, key, 0, 1, current.create_revision, current.id, '');
  const prevKv = rowToKeyValue(current);
  return { type: 'delete', kv: { ...prevKv, modRevision: revision }, prevKv, created: false };
}
