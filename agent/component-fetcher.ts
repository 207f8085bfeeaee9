// Fetches components by digest over HTTPS from the control plane's registry, verifying the digest,
// with an on-disk cache so a restarted agent (or one offline) does not fetch again.
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

export class ComponentFetcher {
  #caCert: string | undefined;
  #agent: Agent | undefined;
  readonly #inflight = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly options: FetcherOptions) {}

  /** The registry's CA, learned from the control plane's presence message. */
  setCaCert(caCert: string | undefined): void {
    if (caCert === this.#caCert) return;
    this.#caCert = caCert;
    this.#agent?.destroy();
    this.#agent = caCert ? new Agent({ ca: caCert, keepAlive: true }) : undefined;
  }

  fetch(digest: string, url: string): Promise<Uint8Array> {
    let p = this.#inflight.get(digest);
    if (!p) {
      p = this.#fetchOnce(digest, url).finally(() => this.#inflight.delete(digest));
      this.#inflight.set(digest, p);
    }
    return p;
  }

  close(): void {
    this.#agent?.destroy();
  }

  async #fetchOnce(digest: string, url: string): Promise<Uint8Array> {
    const cached = await this.#readCache(digest);
    if (cached) return cached;
    const bytes = await this.#download(url);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) throw new ComponentFetchError(`digest mismatch for ${url}: expected ${digest}, got ${actual}`);
    await this.#writeCache(digest, bytes);
    return bytes;
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

  #download(url: string): Promise<Uint8Array> {
    const maxBytes = this.options.maxBytes ?? 64 << 20;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        agent: this.#agent,
        headers: { authorization: `Bearer ${this.options.token}` },
        timeout: this.options.timeoutMs ?? 30_000,
      }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new ComponentFetchError(`GET ${url}: HTTP ${res.statusCode}`));
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
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new ComponentFetchError(`GET ${url}: timed out`)));
      req.on('error', (e) => reject(e instanceof ComponentFetchError ? e : new ComponentFetchError(`GET ${url}: ${e.message}`, { cause: e })));
      req.end();
    });
  }
}
