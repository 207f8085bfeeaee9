// compact: drop history at or below a revision, keeping the state as of that revision.
import type Database from 'better-sqlite3';
import type { SqliteStatements } from './sqlite-statements.js';

export const COMPACT_REVISION_META = 'compact_revision';

/** Deletes superseded rows and tombstones <= `revision` and records the new horizon; returns rows deleted. */
export function compactTo(db: Database.Database, st: SqliteStatements, revision: number): number {
  return db.transaction(() => {
    const deleted = st.compact.run({ revision }).changes;
    st.writeMeta.run(COMPACT_REVISION_META, revision);
    return deleted;
  }).immediate();
}
