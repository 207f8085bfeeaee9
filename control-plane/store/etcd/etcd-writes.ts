// create / update / delete as etcd transactions guarded by create_revision and mod_revision.
import type { Etcd3, ICompare, IKeyValue } from 'etcd3';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type KeyValue } from '../store.js';
import type { EtcdKeys } from './etcd-keys.js';

const exists = (key: Buffer): ICompare => ({ key, target: 'Version', result: 'Greater', version: 0 });
const modifiedAt = (key: Buffer, revision: number): ICompare => ({ key, target: 'Mod', result: 'Equal', mod_revision: revision });

export async function createKey(client: Etcd3, keys: EtcdKeys, key: string, value: string): Promise<number> {
  const etcdKey = keys.toEtcd(key);
  const response = await client.kv.txn({
    compare: [{ key: etcdKey, target: 'Create', result: 'Equal', create_revision: 0 }],
    success: [{ request_put: { key: etcdKey, value: Buffer.from(value) } }],
  });
  if (!response.succeeded) throw new KeyExistsError(key);
  return Number(response.header.revision);
}

export async function updateKey(client: Etcd3, keys: EtcdKeys, key: string, value: string, expected: number): Promise<number> {
  const etcdKey = keys.toEtcd(key);
  // `exists` as well: mod_revision 0 would otherwise match a missing key and create it.
  const response = await client.kv.txn({
    compare: [exists(etcdKey), modifiedAt(etcdKey, expected)],
    success: [{ request_put: { key: etcdKey, value: Buffer.from(value) } }],
    failure: [{ request_range: { key: etcdKey } }],
  });
  if (!response.succeeded) throw guardFailure(key, expected, response.responses[0]?.response_range.kvs[0]);
  return Number(response.header.revision);
}

export async function deleteKey(
  client: Etcd3,
  keys: EtcdKeys,
  key: string,
  expected: number | undefined,
): Promise<{ revision: number; prev: KeyValue }> {
  const etcdKey = keys.toEtcd(key);
  const response = await client.kv.txn({
    compare: expected === undefined ? [exists(etcdKey)] : [exists(etcdKey), modifiedAt(etcdKey, expected)],
    success: [{ request_delete_range: { key: etcdKey, prev_kv: true } }],
    failure: [{ request_range: { key: etcdKey } }],
  });
  if (!response.succeeded) throw guardFailure(key, expected ?? 0, response.responses[0]?.response_range.kvs[0]);
  const prev = response.responses[0]?.response_delete_range.prev_kvs[0];
  if (!prev) throw new KeyNotFoundError(key);
  return { revision: Number(response.header.revision), prev: keys.toKeyValue(prev) };
}

function guardFailure(key: string, expected: number, current: IKeyValue | undefined): Error {
  return current ? new RevisionMismatchError(key, expected, Number(current.mod_revision)) : new KeyNotFoundError(key);
}
