// update: append a row replacing the live one, guarded by its revision.
import { KeyNotFoundError, RevisionMismatchError, type WatchEvent } from '../store.js';
import { isLive, rowToKeyValue } from './kv-row.js';
import type { SqliteStatements } from './sqlite-statements.js';

export function updateKey(
  st: SqliteStatements,
  revision: number,
  key: string,
  value: string,
  expectedModRevision: number,
): WatchEvent {
  const current = st.latest.get(key);
  if (!isLive(current)) throw new KeyNotFoundError(key);
  if (current.id !== expectedModRevision) throw new RevisionMismatchError(key, expectedModRevision, current.id);
  st.insert.run(revision, key, 0, 0, current.create_revision, current.id, value);
  return {
    type: 'put',
    kv: { key, value, createRevision: current.create_revision, modRevision: revision },
    prevKv: rowToKeyValue(current),
    created: false,
  };
}
