// Decoding a stored value once for all its readers. Values are opaque to the Store; the API layer
// stores JSON objects whose metadata.resourceVersion is the key's modRevision (never stored text).
// The watch cache hands every reader the same KeyValue until the key changes (a SharedKeyValue), and
// that KeyValue keeps the one decoded, deep-frozen object its readers share: the informers, every
// watch, `mutate`'s view of the current object, the cache's own label index.
import { deepFreeze, jsonCopy } from '../../api/deep-freeze.js';
import type { KeyValue } from './store.js';

/** A fresh, mutable decode of `kv`: JSON.parse, and for an object metadata.resourceVersion = modRevision. */
export function decodeValue(kv: KeyValue): unknown {
  const parsed: unknown = JSON.parse(kv.value);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parsed;
  const obj = parsed as { metadata?: object };
  obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
  return obj;
}

/**
 * A KeyValue that many readers hold at once (frozen): the first reader to ask decodes the value, the
 * others get that same frozen object. `release` drops it once the key has a newer value (readers that
 * hold it keep it), so superseded values in the cache's history do not keep decoded copies alive.
 */
export class SharedKeyValue implements KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  #decoded: unknown;
  #isDecoded = false;
  #isReleased = false;

  constructor(kv: KeyValue) {
    this.key = kv.key;
    this.value = kv.value;
    this.createRevision = kv.createRevision;
    this.modRevision = kv.modRevision;
    Object.freeze(this);
  }

  /**
   * The decoded value, deep-frozen, parsed on first use (throws what JSON.parse throws, each time);
   * once released, parsed anew for each reader (a reader far behind, or one that reads an old value).
   */
  decoded(): unknown {
    if (this.#isDecoded) return this.#decoded;
    const decoded = deepFreeze(decodeValue(this));
    if (!this.#isReleased) {
      this.#decoded = decoded;
      this.#isDecoded = true;
    }
    return decoded;
  }

  /** Whether a reader has decoded it (tests, benchmarks). */
  get isDecoded(): boolean {
    return this.#isDecoded;
  }

  /** The key has a newer value: the decoded object is no longer kept here (its readers keep theirs). */
  release(): void {
    this.#decoded = undefined;
    this.#isDecoded = false;
    this.#isReleased = true;
  }
}

/** `kv`'s value decoded and deep-frozen: the shared object when `kv` is shared, else a new one. */
export function sharedValue(kv: KeyValue): unknown {
  return kv instanceof SharedKeyValue ? kv.decoded() : deepFreeze(decodeValue(kv));
}

/**
 * A new, mutable decode of `kv` for a caller to change: a copy of the shared object when a reader
 * has decoded it already (several times cheaper than parsing), else a parse of its own (which is not
 * kept: nobody else may want it).
 */
export function ownValue(kv: KeyValue): unknown {
  return kv instanceof SharedKeyValue && kv.isDecoded ? jsonCopy(kv.decoded()) : decodeValue(kv);
}
