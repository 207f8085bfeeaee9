// create: insert the key's first row, unless a live row exists.
import { KeyExistsError, type WatchEvent } from '../store.js';
import { isLive } from './kv-row.js';
import type { SqliteStatements } from './sqlite-statements.js';

export function createKey(st: SqliteStatements, revision: number, key: string, value: string): WatchEvent {
  if (isLive(st.latest.get(key))) throw new KeyExistsError(key);
  st.insert.run(revision, key, 1, 0, revision, 0, value);
  return { type: 'put', kv: { key, value, createRevision: revision, modRevision: revision }, created: true };
}
