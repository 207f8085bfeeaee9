// Prefix -> half-open key range [prefix, end), the way etcd spells "all keys under a prefix".

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when no such key
 * exists (empty prefix, or one made only of U+FFFF). Comparison is by UTF-16 code unit, which
 * matches SQLite's BINARY collation and etcd's byte order for the ASCII keys the API writes.
 */
export function prefixRangeEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

/** The first key of a page: `startKey` if it lies inside the prefix, else the prefix itself. */
export function pageStartKey(prefix: string, startKey: string | undefined): string {
  return startKey !== undefined && startKey > prefix ? startKey : prefix;
}
