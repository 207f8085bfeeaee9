// LabelIndex: (folder, label key, label value) -> the keys whose stored object has that label, for equality selectors.
import { sharedValue } from '../decoded-value.js';
import type { KeyValue, LabelHint } from '../store.js';

/**
 * Each key is indexed under every folder above it (`/registry/core/pods/ns/`, `/registry/core/pods/`,
 * `/registry/core/`), so a list of any such folder (one namespace, or all) finds all its keys. A value that is not a
 * JSON object is "unreadable" and given to every query of its folders: answers are a superset of
 * the matching keys (callers still filter), never missing one.
 */
export class LabelIndex {
  /** `folder \0 key \0 value` -> keys. */
  readonly #keys = new Map<string, Set<string>>();
  /** key -> its `key \0 value` label pairs, to take them out again without parsing the old value. */
  readonly #pairs = new Map<string, string[]>();
  readonly #unreadable = new Set<string>();

  /**
   * Sets the labels of `key` from `kv.value` (or removes them: `kv` undefined after a delete);
   * `previous` is the value indexed last for the key, for the no-parse check of sameLabels.
   */
  set(key: string, kv: Readonly<KeyValue> | undefined, previous?: string): void {
    if (kv !== undefined && previous !== undefined && !this.#unreadable.has(key) && sameLabels(previous, kv.value)) return;
    const before = this.#pairs.get(key) ?? [];
    const read = kv === undefined ? [] : labelPairs(kv);
    if (read === undefined) this.#unreadable.add(key);
    else this.#unreadable.delete(key);
    const after = read ?? [];
    if (before.length === after.length && before.every((pair, i) => pair === after[i])) return;
    const folders = foldersOf(key);
    const kept = new Set(after);
    for (const pair of before) if (!kept.has(pair)) for (const folder of folders) this.#remove(`${folder}\0${pair}`, key);
    const had = new Set(before);
    for (const pair of after) if (!had.has(pair)) for (const folder of folders) this.#add(`${folder}\0${pair}`, key);
    if (after.length) this.#pairs.set(key, after);
    else this.#pairs.delete(key);
  }

  /**
   * Keys under the folder `prefix` that may match every hint (label `key` with one of `values`),
   * unsorted; undefined when the index cannot answer (no hint, or `prefix` is not a folder).
   */
  candidates(prefix: string, hints: readonly LabelHint[]): Set<string> | undefined {
    if (hints.length === 0 || !prefix.endsWith('/') || slashes(prefix) < MIN_FOLDER_SLASHES) return undefined;
    const perHint = hints.map((hint) => {
      const union = new Set<string>();
      for (const value of new Set(hint.values)) for (const key of this.#keys.get(`${prefix}\0${hint.key}\0${value}`) ?? []) union.add(key);
      return union;
    });
    perHint.sort((a, b) => a.size - b.size);
    const [smallest, ...others] = perHint;
    const out = new Set<string>();
    for (const key of smallest!) if (others.every((set) => set.has(key))) out.add(key);
    for (const key of this.#unreadable) if (key.startsWith(prefix)) out.add(key);
    return out;
  }

  #add(entry: string, key: string): void {
    let keys = this.#keys.get(entry);
    if (!keys) this.#keys.set(entry, (keys = new Set()));
    keys.add(key);
  }

  #remove(entry: string, key: string): void {
    const keys = this.#keys.get(entry);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.#keys.delete(entry);
  }
}

const LABELS = '"labels":';

/**
 * Whether two stored values certainly have the same labels, without parsing either (most updates
 * are status writes): each has exactly one `"labels":` (so it is metadata.labels in both or in
 * neither), the texts up to the first `}` after it are equal (so it sits at the same place in
 * both and says the same), and that `{...}` is a whole JSON object (so the `}` closed it). False
 * means "parse". Stored values are JSON (ResourceStore writes JSON.stringify output): an update
 * that passes keeps its labels, whatever follows them.
 */
function sameLabels(a: string, b: string): boolean {
  const at = b.indexOf(LABELS);
  if (at < 0 || b.indexOf(LABELS, at + LABELS.length) >= 0 || a.indexOf(LABELS, at + LABELS.length) >= 0) return false;
  const end = b.indexOf('}', at);
  if (end < 0 || a.length <= end || a.charCodeAt(end) !== 125 || !b.startsWith(a.slice(0, end + 1))) return false;
  try {
    const labels: unknown = JSON.parse(b.slice(at + LABELS.length, end + 1));
    return typeof labels === 'object' && labels !== null;
  } catch {
    return false;
  }
}

/** Folders with fewer slashes (``, `/`, `/registry/`: lists of everything) are not indexed, to save memory. */
const MIN_FOLDER_SLASHES = 3;

function slashes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('/'); at >= 0; at = text.indexOf('/', at + 1)) count++;
  return count;
}

/** Every prefix of `key` that ends with its MIN_FOLDER_SLASHES-th slash or a later one: `/registry/core/`, `/registry/core/pods/` ... */
function foldersOf(key: string): string[] {
  const folders: string[] = [];
  let count = 0;
  for (let at = key.indexOf('/'); at >= 0 && at < key.length - 1; at = key.indexOf('/', at + 1)) {
    if (++count >= MIN_FOLDER_SLASHES) folders.push(key.slice(0, at + 1));
  }
  return folders;
}

/**
 * The sorted `key \0 value` pairs of `metadata.labels` (string values only); undefined when the value
 * is not a JSON object. The parse is the value's shared decode (sharedValue): the readers after
 * the index (informers, watches) get the same object rather than parsing again.
 */
function labelPairs(kv: Readonly<KeyValue>): string[] | undefined {
  // Without the word (JSON.stringify escapes no letter) there are no labels: no parse for most leases and events.
  if (!kv.value.includes('labels') && !kv.value.includes('\\u')) return [];
  let parsed: unknown;
  try {
    parsed = sharedValue(kv);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const metadata = (parsed as { metadata?: unknown }).metadata;
  const labels = typeof metadata === 'object' && metadata !== null ? (metadata as { labels?: unknown }).labels : undefined;
  if (typeof labels !== 'object' || labels === null) return [];
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') pairs.push(`${k}\0${v}`);
  return pairs.sort();
}
