// list: the live keys under a prefix as of a revision, one page at a time.
import { prefixRangeEnd, pageStartKey } from '../key-range.js';
import { CompactedError, type ListOptions, type ListResult } from '../store.js';
import { rowToKeyValue } from './kv-row.js';
import type { SqliteStatements } from './sqlite-statements.js';

export function listKeys(
  st: SqliteStatements,
  prefix: string,
  options: ListOptions,
  currentRevision: number,
  compactedRevision: number,
): ListResult {
  const revision = options.revision || currentRevision;
  if (revision < compactedRevision) throw new CompactedError(revision, compactedRevision);
  if (revision > currentRevision) throw new RangeError(`revision ${revision} is in the future (current: ${currentRevision})`);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const range = { start: pageStartKey(prefix, options.startKey), end: prefixRangeEnd(prefix) };
  // One extra row tells whether more follow, and is exactly where the next page starts.
  const rows = st.listAt(range, revision, limit === undefined ? -1 : limit + 1);
  if (limit === undefined || rows.length <= limit) return { items: rows.map(rowToKeyValue), revision, more: false };
  return { items: rows.slice(0, limit).map(rowToKeyValue), revision, more: true, nextKey: rows[limit]!.name };
}
