// create / update / delete as etcd transactions guarded by create_revision and mod_revision. A
// transaction whose answer was lost (EtcdCalls.write) is settled by reading the key: the same bytes
// there mean it applied, the guard still holding means it did not (and it is sent again).
import type { Etcd3, ICompare, IKeyValue } from 'etcd3';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, StoreUnavailableError, type KeyValue } from '../store.js';
import type { EtcdCalls, Settled } from './etcd-calls.js';
import type { EtcdKeys } from './etcd-keys.js';

const exists = (key: Buffer): ICompare => ({ key, target: 'Version', result: 'Greater', version: 0 });
const modifiedAt = (key: Buffer, revision: number): ICompare => ({ key, target: 'Mod', result: 'Equal', mod_revision: revision });

export interface EtcdWriter {
  client: Etcd3;
  keys: EtcdKeys;
  calls: EtcdCalls;
}

export function createKey({ client, keys, calls }: EtcdWriter, key: string, value: string): Promise<number> {
  const etcdKey = keys.toEtcd(key);
  const bytes = Buffer.from(value);
  return calls.write(`create ${key}`, async (deadline) => {
    const response = await client.kv.txn({
      compare: [{ key: etcdKey, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: etcdKey, value: bytes } }],
    }, { deadline });
    if (!response.succeeded) throw new KeyExistsError(key);
    return Number(response.header.revision);
  }, async (deadline): Promise<Settled<number>> => {
    const current = await readKey(client, calls, etcdKey, deadline);
    if (!current) return 'retry';
    if (current.value.equals(bytes)) return { done: Number(current.create_revision) };
    throw new KeyExistsError(key);
  });
}

export function updateKey({ client, keys, calls }: EtcdWriter, key: string, value: string, expected: number): Promise<number> {
  const etcdKey = keys.toEtcd(key);
  const bytes = Buffer.from(value);
  return calls.write(`update ${key}`, async (deadline) => {
    // `exists` as well: mod_revision 0 would otherwise match a missing key and create it.
    const response = await client.kv.txn({
      compare: [exists(etcdKey), modifiedAt(etcdKey, expected)],
      success: [{ request_put: { key: etcdKey, value: bytes } }],
      failure: [{ request_range: { key: etcdKey } }],
    }, { deadline });
    if (!response.succeeded) throw guardFailure(key, expected, response.responses[0]?.response_range.kvs[0]);
    return Number(response.header.revision);
  }, async (deadline): Promise<Settled<number>> => {
    const current = await readKey(client, calls, etcdKey, deadline);
    if (current && Number(current.mod_revision) === expected) return 'retry';
    if (current && Number(current.mod_revision) > expected && current.value.equals(bytes)) return { done: Number(current.mod_revision) };
    throw guardFailure(key, expected, current);
  });
}

export function deleteKey({ client, keys, calls }: EtcdWriter, key: string, expected: number | undefined): Promise<{ revision: number; prev: KeyValue }> {
  const etcdKey = keys.toEtcd(key);
  return calls.write(`delete ${key}`, async (deadline) => {
    const response = await client.kv.txn({
      compare: expected === undefined ? [exists(etcdKey)] : [exists(etcdKey), modifiedAt(etcdKey, expected)],
      success: [{ request_delete_range: { key: etcdKey, prev_kv: true } }],
      failure: [{ request_range: { key: etcdKey } }],
    }, { deadline });
    if (!response.succeeded) throw guardFailure(key, expected ?? 0, response.responses[0]?.response_range.kvs[0]);
    const prev = response.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new KeyNotFoundError(key);
    return { revision: Number(response.header.revision), prev: keys.toKeyValue(prev) };
  }, async (deadline): Promise<Settled<{ revision: number; prev: KeyValue }>> => {
    const current = await readKey(client, calls, etcdKey, deadline);
    if (current && (expected === undefined || Number(current.mod_revision) === expected)) return 'retry';
    if (current) throw guardFailure(key, expected ?? 0, current);
    // Gone, but by this delete or another one? Its revision and last value are not known here.
    throw new StoreUnavailableError(`etcd did not answer the delete of ${key}, and it is gone: it may or may not have been this delete`);
  });
}

function readKey(client: Etcd3, calls: EtcdCalls, etcdKey: Buffer, deadline: number): Promise<IKeyValue | undefined> {
  return calls.read('a read after a lost answer', async (attempt) => (await client.kv.range({ key: etcdKey }, { deadline: attempt })).kvs[0], deadline);
}

function guardFailure(key: string, expected: number, current: IKeyValue | undefined): Error {
  return current ? new RevisionMismatchError(key, expected, Number(current.mod_revision)) : new KeyNotFoundError(key);
}
