// Secrets encrypted at rest: a Store decorator that seals every value under the Secrets prefix with
// AES-256-GCM (random 96-bit nonce, the key path as associated data) and opens it on every read and watch
// event, so the store (SQLite file, etcd) never holds a Secret in clear. The 32-byte key lives in the data
// dir (mode 0600), created at first start. Values without the envelope prefix are read as plaintext (data
// written before encryption) and sealed on their next write.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from '../store/store.js';

export const encryptionKeyFileName = 'secrets-encryption.key';
const envelopePrefix = 'k8s:enc:aesgcm:v1:skiff:';
const secretsPrefix = '/registry/core/secrets/';
const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;

export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/** A stored Secret that does not open with this key (wrong key file, or a tampered value). */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`cannot decrypt the stored value of ${key}: wrong encryption key or corrupted data`, options);
  }
}

/** Reads DATA_DIR/secrets-encryption.key, creating it (random, mode 0600) on first start. */
export async function ensureEncryptionKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, encryptionKeyFileName);
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(path, `${randomBytes(keyBytes).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await chmod(path, 0o600);
  const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  if (key.length !== keyBytes) throw new EncryptionKeyError(`${path} must hold ${keyBytes} base64-encoded bytes`);
  return key;
}

export function sealValue(encryptionKey: Buffer, storeKey: string, plaintext: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, nonce);
  cipher.setAAD(Buffer.from(storeKey));
  const sealed = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${envelopePrefix}${sealed.toString('base64')}`;
}

export function openValue(encryptionKey: Buffer, storeKey: string, stored: string): string {
  if (!stored.startsWith(envelopePrefix)) return stored;
  try {
    const sealed = Buffer.from(stored.slice(envelopePrefix.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, sealed.subarray(0, nonceBytes));
    decipher.setAAD(Buffer.from(storeKey));
    decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
    return Buffer.concat([decipher.update(sealed.subarray(nonceBytes, sealed.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new SecretDecryptionError(storeKey, { cause: err });
  }
}

/** `store` with Secret values sealed on the way in and opened on the way out. */
export function encryptSecretsAtRest(store: Store, encryptionKey: Buffer): Store {
  const isSecret = (key: string) => key.startsWith(secretsPrefix);
  const seal = (key: string, value: string) => (isSecret(key) ? sealValue(encryptionKey, key, value) : value);
  const open = (kv: KeyValue): KeyValue => (isSecret(kv.key) ? { ...kv, value: openValue(encryptionKey, kv.key, kv.value) } : kv);
  const openEvent = (e: WatchEvent): WatchEvent => ({ ...e, kv: open(e.kv), ...(e.prevKv ? { prevKv: open(e.prevKv) } : {}) });
  return {
    create: (key, value) => store.create(key, seal(key, value)),
    get: async (key) => {
      const kv = await store.get(key);
      return kv && open(kv);
    },
    list: async (prefix: string, options?: ListOptions): Promise<ListResult> => {
      const result = await store.list(prefix, options);
      return { ...result, items: result.items.map(open) };
    },
    update: (key, value, expected) => store.update(key, seal(key, value), expected),
    delete: async (key, expected) => {
      const result = await store.delete(key, expected);
      return { ...result, prev: open(result.prev) };
    },
    watch: (prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch => {
      let failed = false;
      let inner: Watch | undefined;
      inner = store.watch(prefix, options, (event) => {
        if (failed) return;
        let opened: WatchEvent;
        try {
          opened = openEvent(event);
        } catch (err) {
          // Like any other watch failure: one onError, then nothing more.
          failed = true;
          inner?.cancel();
          onError?.(err as Error);
          return;
        }
        onEvent(opened);
      }, onError);
      if (failed) inner.cancel();
      return inner;
    },
    currentRevision: () => store.currentRevision(),
    compact: (revision) => store.compact(revision),
    compactedRevision: () => store.compactedRevision(),
    close: () => store.close(),
  };
}
