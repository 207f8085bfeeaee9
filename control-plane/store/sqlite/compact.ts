// compact: drop history at or below a revision, keeping the state as of that revision, a chunk of
// rows per transaction and a few chunks per event-loop turn, so a compaction of 100,000s of rows
// never holds the loop (one DELETE of them all took seconds at 100,000 pods).
//
// The horizon is recorded first, in its own transaction: from then on no read or watch asks for a
// revision below it, so the rows the chunks delete (superseded at or below it, or tombstones) are
// rows no one reads, whether the chunks are done, half done (the loop runs on between them) or cut
// short by a crash or close (the next compaction's chunks delete what is left).
import type Database from 'better-sqlite3';
import type { Clock } from '../../../api/clock.js';
import type { SqliteStatements } from './sqlite-statements.js';

export const COMPACT_REVISION_META = 'compact_revision';

export interface CompactionPace {
  clock: Clock;
  /** Revisions (row ids) per DELETE transaction. Default 250 (~5 ms at 4 writes a key). */
  chunkRevisions?: number;
  /** Chunks run while the turn is younger than this, then the next turn goes on. Default 4 ms. */
  turnMs?: number;
  /** false once the store is closed: the chunks stop. */
  isOpen: () => boolean;
}

/** Records `revision` as the compaction horizon (one transaction). */
export function recordHorizon(db: Database.Database, st: SqliteStatements, revision: number): void {
  db.transaction(() => st.writeMeta.run(COMPACT_REVISION_META, revision)).immediate();
}

/**
 * Deletes the rows superseded at or below `revision` and tombstones at or below it, in chunks of row
 * ids within turns of the event loop; resolves with the rows deleted.
 */
export async function deleteCompacted(db: Database.Database, st: SqliteStatements, revision: number, pace: CompactionPace): Promise<number> {
  const chunk = pace.chunkRevisions ?? 250;
  const turnMs = pace.turnMs ?? 4;
  let after = (st.lowestId.get()?.id ?? revision + 1) - 1;
  let deleted = 0;
  while (after < revision) {
    if (!pace.isOpen()) return deleted;
    const turnStart = pace.clock.now();
    do {
      const through = Math.min(after + chunk, revision);
      deleted += db.transaction(() => st.compact.run({ revision, after, through }).changes).immediate();
      after = through;
    } while (after < revision && pace.clock.now() - turnStart < turnMs);
    if (after < revision) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return deleted;
}
