import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Secret } from '../../../control-plane/resources/kinds/config.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { ensureInitialNamespaces } from '../../../control-plane/resources/initial-namespaces.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import {
  encryptSecretsAtRest, encryptionKeyFileName, ensureEncryptionKey, SecretDecryptionError,
} from '../../../control-plane/resources/secret-encryption.js';
import { openSqliteStore, type SqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import { collector } from '../support/test-resources.js';

const { secrets, configmaps } = resourceTypes;
const plaintext = 'correct-horse-battery-staple';
const aSecret = (name: string): Secret => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { password: plaintext } });

let dir: string;
let raw: SqliteStore;
let resources: ResourceStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-enc-'));
  raw = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  resources = new ResourceStore(encryptSecretsAtRest(raw, await ensureEncryptionKey(dir)));
  await ensureInitialNamespaces(resources);
});
afterEach(async () => {
  await raw.close();
  await rm(dir, { recursive: true, force: true });
});

describe('secrets encrypted at rest', () => {
  it('creates a 32-byte key file with mode 0600 once and reuses it', async () => {
    const path = join(dir, encryptionKeyFileName);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const first = await ensureEncryptionKey(dir);
    expect(first.length).toBe(32);
    expect((await ensureEncryptionKey(dir)).equals(first)).toBe(true);
  });

  it('stores only ciphertext for Secrets while clients read them in clear', async () => {
    const created = await resources.create<Secret>(secrets, aSecret('db'));
    const encoded = created.data?.['password'];
    expect(Buffer.from(encoded ?? '', 'base64').toString()).toBe(plaintext);
    const stored = await raw.get('/registry/core/secrets/default/db');
    expect(stored?.value.startsWith('k8s:enc:aesgcm:v1:skiff:')).toBe(true);
    expect(stored?.value).not.toContain(encoded);
    expect((await resources.get<Secret>(secrets, 'default', 'db')).data?.['password']).toBe(encoded);
    expect((await resources.list<Secret>(secrets, { namespace: 'default' })).items[0]?.data?.['password']).toBe(encoded);
    // ConfigMaps are not sealed.
    await resources.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'visible' } });
    expect((await raw.get('/registry/core/configmaps/default/c'))?.value).toContain('visible');
  });

  it('never writes the plaintext or its base64 into the database files', async () => {
    await resources.create<Secret>(secrets, aSecret('db'));
    const encoded = Buffer.from(plaintext).toString('base64');
    for (const file of await readdir(dir)) {
      if (!file.startsWith('state.db')) continue;
      const bytes = await readFile(join(dir, file));
      expect(bytes.includes(plaintext)).toBe(false);
      expect(bytes.includes(encoded)).toBe(false);
    }
  });

  it('delivers watch events decrypted', async () => {
    const events = collector<{ type: string; obj: Secret }>();
    const w = resources.watch<Secret>(secrets, { namespace: 'default' }, (type, obj) => events.push({ type, obj }), () => undefined);
    await resources.create<Secret>(secrets, aSecret('db'));
    const [event] = await events.waitFor(1);
    w.cancel();
    expect(event?.type).toBe('ADDED');
    expect(Buffer.from(event?.obj.data?.['password'] ?? '', 'base64').toString()).toBe(plaintext);
  });

  it('refuses to open a Secret with another key', async () => {
    await resources.create<Secret>(secrets, aSecret('db'));
    const other = new ResourceStore(encryptSecretsAtRest(raw, Buffer.alloc(32, 7)));
    await expect(other.get(secrets, 'default', 'db')).rejects.toBeInstanceOf(SecretDecryptionError);
  });
});
