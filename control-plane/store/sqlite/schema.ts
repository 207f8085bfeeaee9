// The SQLite schema (kine-style log of revisions) and the pragmas that make it crash-safe.
//
// Inspect a live store with the sqlite3 shell (WAL lets it read while skiff writes):
//   sqlite3 DATA_DIR/state.db "SELECT id, name, created, deleted, length(value) FROM kv ORDER BY id DESC LIMIT 20"
//
//   kv    one row per write; `id` is the revision it got.
//     id               INTEGER PRIMARY KEY AUTOINCREMENT  the cluster-wide revision of this write.
//                      AUTOINCREMENT keeps sqlite_sequence at the highest id ever used, so the
//                      counter never goes back even when compaction deletes the newest row.
//     name             TEXT     the key
//     created          INTEGER  1 when this put created the key (no live predecessor)
//     deleted          INTEGER  1 for a delete tombstone (value is '')
//     create_revision  INTEGER  the id of the row that created the key
//     prev_revision    INTEGER  the id of the row this write replaced (0 for a create); a watch
//                      replay joins on it to build prevKv, and a tombstone's event value
//     value            TEXT     the value (opaque string, JSON for the API)
//   The current value of a key is its row with the highest id, unless that row is a tombstone.
//   meta  (name TEXT PRIMARY KEY, value INTEGER); name 'compact_revision' = the horizon below
//         which history is gone.
//
// Compaction at R deletes every row with id <= R that a newer row with id <= R supersedes, and
// every tombstone with id <= R: the state at R (and every later one) stays readable.
import type Database from 'better-sqlite3';

export const SCHEMA_DDL = `
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** FULL fsyncs the WAL on every commit (survives power loss); NORMAL survives a process crash only. */
export type SqliteSynchronous = 'FULL' | 'NORMAL';

export function applySchema(db: Database.Database, synchronous: SqliteSynchronous): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  // The sqlite3 shell may hold a read lock briefly; wait instead of failing a write.
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA_DDL);
}
