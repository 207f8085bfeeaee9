// The component registry: blobs stored by sha256 digest in the data dir, tags (NAME:TAG -> digest)
// kept in the Store so every control-plane replica sees the same names.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import { KeyExistsError } from '../store/store.js';
import { parseImageReference } from './image-reference.js';

const TAG_PREFIX = '/skiff/registry/tags/';

export interface TagRecord {
  digest: string;
  size: number;
  pushedAt: string;
}

export type Resolution = { digest: string } | { error: string };

export class ComponentRegistry {
  readonly #listeners = new Set<(ref: string, digest: string) => void>();

  constructor(private readonly store: Store, private readonly blobDir: string) {}

  /** Stores the bytes and points `ref` (NAME[:TAG]) at them. */
  async push(ref: string, bytes: Uint8Array): Promise<{ ref: string; digest: string; size: number }> {
    const parsed = parseImageReference(ref);
    if (parsed.kind !== 'tag') throw new TypeError('push takes NAME[:TAG], not a digest reference');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await this.#writeBlob(digest, bytes);
    const key = `${TAG_PREFIX}${parsed.name}:${parsed.tag}`;
    const record = JSON.stringify({ digest, size: bytes.length, pushedAt: new Date().toISOString() } satisfies TagRecord);
    for (;;) {
      const current = await this.store.get(key);
      try {
        if (current) await this.store.update(key, record, current.modRevision);
        else await this.store.create(key, record);
        break;
      } catch (error) {
        if (!(error instanceof KeyExistsError) && (error as Error).name !== 'RevisionMismatchError') throw error;
      }
    }
    const full = `${parsed.name}:${parsed.tag}`;
    for (const listener of this.#listeners) listener(full, digest);
    return { ref: full, digest, size: bytes.length };
  }

  /** Where an image reference points, or why it cannot be used. */
  async resolve(image: string): Promise<Resolution> {
    let parsed;
    try {
      parsed = parseImageReference(image);
    } catch (error) {
      return { error: (error as Error).message };
    }
    if (parsed.kind === 'digest') {
      return (await this.hasBlob(parsed.digest)) ? { digest: parsed.digest } : { error: `component ${image} not found in the registry` };
    }
    const kv = await this.store.get(`${TAG_PREFIX}${parsed.name}:${parsed.tag}`);
    if (!kv) return { error: `component "${parsed.name}:${parsed.tag}" not found in the registry (push it with: skiff push FILE.wasm ${parsed.name}:${parsed.tag})` };
    return { digest: (JSON.parse(kv.value) as TagRecord).digest };
  }

  async tags(): Promise<Array<{ ref: string } & TagRecord>> {
    const list = await this.store.list(TAG_PREFIX);
    return list.items.map((kv) => ({ ref: kv.key.slice(TAG_PREFIX.length), ...(JSON.parse(kv.value) as TagRecord) }));
  }

  blobPath(digest: string): string {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new TypeError(`invalid digest ${digest}`);
    return join(this.blobDir, digest.replace(':', '-'));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return stat(this.blobPath(digest)).then(() => true, () => false);
  }

  /** Where a blob arriving from elsewhere (an OCI pull) is written, then renamed into place. */
  async prepareBlob(digest: string): Promise<{ temporary: string; final: string }> {
    const final = this.blobPath(digest);
    await mkdir(this.blobDir, { recursive: true });
    return { temporary: `${final}.pulling-${randomBytes(6).toString('hex')}`, final };
  }

  readBlob(digest: string): Promise<Buffer | undefined> {
    return readFile(this.blobPath(digest)).catch(() => undefined);
  }

  /** Called after every push (the desired-state publisher re-resolves images). */
  onPush(listener: (ref: string, digest: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #writeBlob(digest: string, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(digest)) return;
    await mkdir(this.blobDir, { recursive: true });
    const path = this.blobPath(digest);
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  }
}
