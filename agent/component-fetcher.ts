// Fetches components by digest over HTTPS from the control plane's registry (which may be pulling
// them from an OCI registry as it serves them), verifying the digest, with an on-disk cache so a
// restarted agent (or one offline) does not fetch again. Reports download progress.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';

export class ComponentFetchError extends Error {
  override readonly name = 'ComponentFetchError';
}

export interface FetcherOptions {
  cacheDir?: string;
  token: string;
  /** Upper bound on a component's size. */
  maxBytes?: number;
  timeoutMs?: number;
}

/** Bytes received so far, and the total when the server said it. */
export type FetchProgress = (receivedBytes: number, totalBytes: number | undefined) => void;

export interface FetchedComponent {
  bytes: Uint8Array;
  /** False when it came from the agent's disk cache. */
  downloaded: boolean;
}

export class ComponentFetcher {
  #caCert: string | undefined;
  #agent: Agent | undefined;
  readonly #inflight = new Map<string, { result: Promise<FetchedComponent>; listeners: Set<FetchProgress> }>();

  constructor(private readonly options: FetcherOptions) {}

  /** The registry's CA, learned from the control plane's presence message. */
  setCaCert(caCert: string | undefined): void {
    if (caCert === this.#caCert) return;
    this.#caCert = caCert;
    this.#agent?.destroy();
    this.#agent = caCert ? new Agent({ ca: caCert, keepAlive: true }) : undefined;
  }

  /** One download per digest at a time: callers asking meanwhile share it (and its progress). */
  async fetch(digest: string, url: string, onProgress?: FetchProgress): Promise<FetchedComponent> {
    let entry = this.#inflight.get(digest);
    if (!entry) {
      const listeners = new Set<FetchProgress>();
      const progress: FetchProgress = (received, total) => {
        for (const listener of listeners) listener(received, total);
      };
      entry = { result: this.#fetchOnce(digest, url, progress).finally(() => this.#inflight.delete(digest)), listeners };
      this.#inflight.set(digest, entry);
    }
    if (onProgress) entry.listeners.add(onProgress);
    try {
      return await entry.result;
    } finally {
      if (onProgress) entry.listeners.delete(onProgress);
    }
  }

  /** The component from the disk cache only (imagePullPolicy Never), or undefined. */
  cached(digest: string): Promise<Uint8Array | undefined> {
    return this.#readCache(digest);
  }

  close(): void {
    this.#agent?.destroy();
  }

  async #fetchOnce(digest: string, url: string, onProgress: FetchProgress): Promise<FetchedComponent> {
    const cached = await this.#readCache(digest);
    if (cached) return { bytes: cached, downloaded: false };
    const bytes = await this.#download(url, onProgress);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) throw new ComponentFetchError(`digest mismatch for ${url}: expected ${digest}, got ${actual}`);
    await this.#writeCache(digest, bytes);
    return { bytes, downloaded: true };
  }

  #cachePath(digest: string): string | undefined {
    return this.options.cacheDir ? join(this.options.cacheDir, digest.replace(':', '-')) : undefined;
  }

  async #readCache(digest: string): Promise<Uint8Array | undefined> {
    const path = this.#cachePath(digest);
    if (!path) return undefined;
    try {
      const bytes = await readFile(path);
      // a torn write would fail the digest check: treat it as absent
      if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` === digest) return bytes;
    } catch {
      // not cached
    }
    return undefined;
  }

  async #writeCache(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.#cachePath(digest);
    if (!path) return;
    await mkdir(this.options.cacheDir!, { recursive: true });
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  }

  #download(url: string, onProgress: FetchProgress): Promise<Uint8Array> {
    const maxBytes = this.options.maxBytes ?? 64 << 20;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        agent: this.#agent,
        headers: { authorization: `Bearer ${this.options.token}` },
        timeout: this.options.timeoutMs ?? 30_000,
      }, (res) => {
        if (res.statusCode !== 200) {
          readError(res).then((detail) => reject(new ComponentFetchError(`GET ${url}: HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`)));
          return;
        }
        const length = Number(res.headers['content-length']);
        const total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
        if (total !== undefined && total > maxBytes) {
          req.destroy(new ComponentFetchError(`${url} is larger than ${maxBytes} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new ComponentFetchError(`${url} is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
          onProgress(size, total);
        });
        res.on('aborted', () => req.destroy(new ComponentFetchError(`GET ${url}: the server ended the download after ${size} bytes`)));
        res.on('end', () => {
          if (total !== undefined && size !== total) reject(new ComponentFetchError(`GET ${url}: got ${size} of ${total} bytes`));
          else resolve(Buffer.concat(chunks));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new ComponentFetchError(`GET ${url}: timed out`)));
      req.on('error', (e) => reject(e instanceof ComponentFetchError ? e : new ComponentFetchError(`GET ${url}: ${e.message}`, { cause: e })));
      req.end();
    });
  }
}

/** The registry's `{ error }` message of a failed request (bounded), or ''. */
function readError(res: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      if (text.length < 4096) text += c;
    });
    res.on('end', () => {
      try {
        const error = (JSON.parse(text) as { error?: unknown }).error;
        resolve(typeof error === 'string' ? error.slice(0, 500) : '');
      } catch {
        resolve('');
      }
    });
    res.on('error', () => resolve(''));
  });
}
