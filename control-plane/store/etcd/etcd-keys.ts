// Maps Store keys to etcd keys under the store's prefix, and etcd KeyValues back to the Store's.
import type { IKeyValue } from 'etcd3';
import type { KeyValue } from '../store.js';

export class EtcdKeys {
  readonly #prefix: Buffer;

  constructor(prefix: string) {
    this.#prefix = Buffer.from(prefix);
  }

  /** A non-empty key no Store key can equal, for calls that only want a response header. */
  get probeKey(): Buffer {
    return this.toEtcd('\0');
  }

  toEtcd(key: string): Buffer {
    return Buffer.concat([this.#prefix, Buffer.from(key)]);
  }

  fromEtcd(key: Buffer): string {
    return key.subarray(this.#prefix.length).toString();
  }

  /** [start, end) covering every key under `prefix` (inside the store's prefix), by etcd's byte order. */
  range(prefix: string, startKey?: string): { key: Buffer; range_end: Buffer } {
    const full = this.toEtcd(prefix);
    const start = startKey !== undefined && startKey > prefix ? this.toEtcd(startKey) : full;
    // etcd rejects an empty key; "\0" is the smallest one.
    return { key: start.length > 0 ? start : Buffer.from([0]), range_end: prefixEndBytes(full) };
  }

  toKeyValue(kv: IKeyValue): KeyValue {
    return {
      key: this.fromEtcd(kv.key),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }
}

/** The first key after every key starting with `prefix`; etcd reads "\0" as "to the end of the keyspace". */
function prefixEndBytes(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}
