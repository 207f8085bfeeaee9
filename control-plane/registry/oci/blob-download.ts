// One blob being pulled from a registry into the cluster's blob store: written to a temporary file
// as it arrives (hashed on the way), renamed into place once its sha256 matches, and readable while
// it is still arriving, so every agent asking for it streams the one download instead of waiting
// for it (or starting another).
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

export class BlobDigestError extends Error {
  override readonly name = 'BlobDigestError';
}

const READ_CHUNK_BYTES = 256 * 1024;

export class BlobDownload {
  /** Settles when the blob is in place (or the download failed); never rejects unhandled. */
  readonly done: Promise<void>;
  /** The temporary file exists: followers can open it. */
  readonly #opened: Promise<FileHandle>;
  #written = 0;
  #failure: Error | undefined;
  #finished = false;
  readonly #progress = new EventEmitter();

  #paths: { temporary: string; final: string } | undefined;

  /** `paths` says where to write (it may create the directory); `source` opens the registry's body. */
  constructor(
    readonly digest: string,
    readonly size: number,
    paths: () => Promise<{ temporary: string; final: string }>,
    source: () => Promise<Readable>,
    private readonly signal?: AbortSignal,
  ) {
    this.#progress.setMaxListeners(0);
    this.#opened = paths().then((p) => {
      this.#paths = p;
      return open(p.temporary, 'w');
    });
    this.#opened.catch(() => undefined);
    this.done = this.#run(source);
    this.done.catch(() => undefined);
  }

  get bytesWritten(): number {
    return this.#written;
  }

  /** The blob's bytes from the start, as they arrive; errors if the download fails. */
  follow(): Readable {
    return Readable.from(this.#read(), { objectMode: false });
  }

  async *#read(): AsyncGenerator<Buffer> {
    let handle: FileHandle;
    try {
      await this.#opened;
      handle = await open(this.#paths!.temporary, 'r');
    } catch {
      await this.done; // renamed into place already (or failed: rethrows)
      handle = await open(this.#paths!.final, 'r');
    }
    try {
      let offset = 0;
      for (;;) {
        if (this.#failure) throw this.#failure;
        if (offset < this.#written) {
          const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, this.#written - offset));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
          offset += bytesRead;
          yield buffer.subarray(0, bytesRead);
          continue;
        }
        if (this.#finished) return;
        await once(this.#progress, 'progress');
      }
    } finally {
      await handle.close();
    }
  }

  async #run(source: () => Promise<Readable>): Promise<void> {
    let file: FileHandle | undefined;
    const hash = createHash('sha256');
    try {
      file = await this.#opened;
      this.signal?.throwIfAborted();
      const body = await source();
      const stop = () => body.destroy(new Error('the control plane is stopping'));
      this.signal?.addEventListener('abort', stop, { once: true });
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (this.#written + chunk.length > this.size) {
          body.destroy();
          throw new BlobDigestError(`blob ${this.digest} is longer than the ${this.size} bytes its manifest says`);
        }
        hash.update(chunk);
        await file.write(chunk, 0, chunk.length, this.#written);
        this.#written += chunk.length;
        this.#progress.emit('progress');
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== this.digest) throw new BlobDigestError(`digest mismatch: the registry sent ${actual} for ${this.digest}`);
      if (this.#written !== this.size) throw new BlobDigestError(`blob ${this.digest} is ${this.#written} bytes, its manifest says ${this.size}`);
      this.signal?.removeEventListener('abort', stop);
      await file.sync();
      await file.close();
      await rename(this.#paths!.temporary, this.#paths!.final);
      this.#finished = true;
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      await file?.close().catch(() => undefined);
      if (this.#paths) await rm(this.#paths.temporary, { force: true });
      throw this.#failure;
    } finally {
      this.#progress.emit('progress');
    }
  }
}
