// Every SQL statement the SQLite driver runs, prepared once per connection.
import type Database from 'better-sqlite3';
import type { KvRow, KvRowWithPrev } from './kv-row.js';

export interface RangeParams {
  start: string;
  end?: string | undefined;
}

export interface SqliteStatements {
  latest: Database.Statement<[string], KvRow>;
  insert: Database.Statement<[number, string, number, number, number, number, string]>;
  listAt(range: RangeParams, revision: number, limit: number): KvRow[];
  replayPage(range: RangeParams, afterRevision: number, untilRevision: number, limit: number): KvRowWithPrev[];
  compact: Database.Statement<{ revision: number; after: number; through: number }>;
  lowestId: Database.Statement<[], { id: number | null }>;
  readMeta: Database.Statement<[string], { value: number }>;
  writeMeta: Database.Statement<[string, number]>;
  sequence: Database.Statement<[], { seq: number }>;
}

// Bounded and unbounded (empty prefix) variants: an `end IS NULL OR` filter would defeat the index.
// The newest row of each key at the revision, in key order, LIMIT applied while walking the
// (name, id) index: a page costs its own rows, not a scan of every key after it (which made
// listing 100,000 keys in pages quadratic). Tombstones come back too; listAt skips them.
const listSql = (bounded: boolean): string => `
  SELECT kv.* FROM (
    SELECT name, MAX(id) AS id FROM kv
    WHERE name >= @start ${bounded ? 'AND name < @end' : ''} AND id <= @revision
    GROUP BY name ORDER BY name LIMIT @limit
  ) AS newest JOIN kv ON kv.id = newest.id ORDER BY kv.name`;

const replaySql = (bounded: boolean): string => `
  SELECT kv.*, prev.value AS prev_value, prev.create_revision AS prev_create_revision
  FROM kv LEFT JOIN kv AS prev ON prev.id = kv.prev_revision
  WHERE kv.id > @after AND kv.id <= @until AND kv.name >= @start ${bounded ? 'AND kv.name < @end' : ''}
  ORDER BY kv.id LIMIT @limit`;

export function prepareStatements(db: Database.Database): SqliteStatements {
  const list = { bounded: db.prepare(listSql(true)), unbounded: db.prepare(listSql(false)) };
  const replay = { bounded: db.prepare(replaySql(true)), unbounded: db.prepare(replaySql(false)) };
  return {
    latest: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1'),
    insert: db.prepare(
      'INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    listAt: (range, revision, limit) => {
      const rows: KvRow[] = [];
      let start = range.start;
      for (;;) {
        const want = limit < 0 ? -1 : limit - rows.length;
        const page = (range.end === undefined
          ? list.unbounded.all({ start, revision, limit: want })
          : list.bounded.all({ start, end: range.end, revision, limit: want })) as KvRow[];
        for (const row of page) if (!row.deleted) rows.push(row);
        // tombstones took places in a full page: read on after its last key
        if (want < 0 || page.length < want || rows.length >= limit) return rows;
        start = `${page[page.length - 1]!.name}\0`;
      }
    },
    replayPage: (range, after, until, limit) =>
      (range.end === undefined
        ? replay.unbounded.all({ start: range.start, after, until, limit })
        : replay.bounded.all({ start: range.start, end: range.end, after, until, limit })) as KvRowWithPrev[],
    compact: db.prepare(`
      DELETE FROM kv WHERE id > @after AND id <= @through AND (deleted = 1 OR EXISTS (
        SELECT 1 FROM kv AS newer WHERE newer.name = kv.name AND newer.id > kv.id AND newer.id <= @revision))`),
    lowestId: db.prepare<[], { id: number | null }>('SELECT MIN(id) AS id FROM kv'),
    readMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
    writeMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    sequence: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'kv'"),
  };
}
