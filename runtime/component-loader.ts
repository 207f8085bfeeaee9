// Loads components by digest for one agent: from its own memory or disk cache, or by asking for the
// bytes (the agent's own fetch, with its node credential), verified and transpiled through a
// ComponentCache that the agents of one process may share (decision 052); core modules are
// compiled once per variant (memory cap, metering) and shared between instances.
import { LRUCache } from 'lru-cache';
import { ComponentCache, transpiledBytes, type CompiledModules, type ModuleVariant } from './component-cache.js';
import { ComponentDiskCache } from './component-disk-cache.js';
import { digestHex } from './component-digest.js';
import type { TranspiledComponent } from './transpiler/component-transpiler.js';
import { definedMemoryMinPages } from './limits/memory-cap.js';
import type { LoadedComponent } from './pod-runtime.js';

export type { CompiledModules, ModuleVariant } from './component-cache.js';

const STARLING_MONKEY_MARKER = 'StarlingMonkey';

export class WasmComponent implements LoadedComponent {
  #memoryMinPages: Record<string, number> | undefined;
  #handlerReuseUnsupported: boolean | undefined;

  constructor(
    readonly digest: string,
    readonly transpiled: TranspiledComponent,
  ) {}

  /** Initial pages of the memory each core module defines (by module name), read once. */
  get memoryMinPages(): Record<string, number> {
    this.#memoryMinPages ??= Object.fromEntries(Object.entries(this.transpiled.coreModules).map(([name, bytes]) => [name, definedMemoryMinPages(bytes)]));
    return this.#memoryMinPages;
  }

  /**
   * Built on StarlingMonkey (componentize-js): its FetchEvent dispatch answers one request per
   * instance (StarlingMonkey issue #247), so its handler instances are not reused unless the pod
   * asks (decision 053). Recognised by the engine's own marker in its core module, read once.
   */
  get handlerReuseUnsupported(): boolean {
    this.#handlerReuseUnsupported ??= Object.values(this.transpiled.coreModules).some((bytes) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(STARLING_MONKEY_MARKER));
    return this.#handlerReuseUnsupported;
  }

  get exportsCommand(): boolean {
    if (this.transpiled.preview1) return this.transpiled.exports.includes('_start');
    return this.transpiled.exports.some((name) => name.startsWith('wasi:cli/run@'));
  }

  get exportsHttpHandler(): boolean {
    return !this.transpiled.preview1 && this.transpiled.exports.some((name) => name.startsWith('wasi:http/incoming-handler@'));
  }

  /** What it can be started as (from the transpiled component's exports). */
  get exports(): { command: boolean; httpHandler: boolean } {
    return { command: this.exportsCommand, httpHandler: this.exportsHttpHandler };
  }
}

export interface ComponentLoaderOptions {
  cacheDir?: string;
  /** Bound of the in-memory caches (transpiled JS + core bytes, and compiled modules). */
  memoryCacheBytes?: number;
  /** Shared with the other agents of this process (its owner closes it); default: one of its own. */
  cache?: ComponentCache;
}

const DEFAULT_MEMORY_CACHE_BYTES = 256 * 1024 * 1024;

export class ComponentLoader {
  readonly #disk: ComponentDiskCache | undefined;
  /** Components this loader got (its own fetch or disk): only these are handed out without bytes. */
  readonly #components: LRUCache<string, WasmComponent>;
  readonly #loading = new Map<string, Promise<WasmComponent>>();
  readonly #cache: ComponentCache;
  readonly #ownsCache: boolean;

  constructor(options: ComponentLoaderOptions = {}) {
    this.#disk = options.cacheDir ? new ComponentDiskCache(options.cacheDir) : undefined;
    const maxSize = options.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES;
    this.#components = new LRUCache({ maxSize, sizeCalculation: (c) => Math.max(1, transpiledBytes(c.transpiled)) });
    this.#ownsCache = options.cache === undefined;
    this.#cache = options.cache ?? new ComponentCache({ memoryCacheBytes: maxSize });
  }

  load(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<WasmComponent> {
    const cached = this.#components.get(digest);
    if (cached) return Promise.resolve(cached);
    let pending = this.#loading.get(digest);
    if (!pending) {
      pending = this.#loadUncached(digest, fetchBytes).finally(() => this.#loading.delete(digest));
      this.#loading.set(digest, pending);
    }
    return pending;
  }

  async #loadUncached(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<WasmComponent> {
    const hex = digestHex(digest);
    const fromDisk = await this.#disk?.read(hex);
    let transpiled: TranspiledComponent;
    if (fromDisk) {
      transpiled = this.#cache.remember(digest, fromDisk);
    } else {
      // the shared cache checks the bytes against the digest: another agent's transpile is reused only
      // once this agent has fetched the same bytes itself
      transpiled = await this.#cache.transpile(digest, await fetchBytes());
      await this.#disk?.write(hex, transpiled);
    }
    const component = new WasmComponent(digest, transpiled);
    this.#components.set(digest, component);
    return component;
  }

  /** Ends the transpiler, unless the cache is shared (then its owner does). */
  close(): Promise<void> {
    return this.#ownsCache ? this.#cache.close() : Promise.resolve();
  }

  /** Compiled core modules of a component for a variant, compiled at most once while cached. */
  modules(component: WasmComponent, variant: ModuleVariant): Promise<CompiledModules> {
    return this.#cache.modules(component.digest, component.transpiled, variant);
  }
}
