// Loads components by digest: verify, transpile (or take from the memory/disk cache), compile the
// core modules once per variant (memory cap, metering) and share them between instances.
import { LRUCache } from 'lru-cache';
import { ComponentDiskCache } from './component-disk-cache.js';
import { digestHex, verifyDigest } from './component-digest.js';
import { detectBinaryKind } from './component-format.js';
import { preview1Component } from './preview1-module.js';
import type { TranspiledComponent } from './transpiler/component-transpiler.js';
import { TranspilerWorker } from './transpiler/transpiler-worker.js';
import { instrumentModule } from './limits/instrument-module.js';
import { capMemory, definedMemoryMinPages, MemoryLimitError } from './limits/memory-cap.js';
import { InvalidComponentError, type LoadedComponent } from './pod-runtime.js';

/** How core modules are rewritten before compiling; each distinct variant is compiled once. */
export interface ModuleVariant {
  /** Caps every linear memory statically (and accounts memory: implies accountMemory). */
  memoryMaxPages?: number;
  /** Routes memory.grow through the worker's memory account: the container's limit and the node's pool. */
  accountMemory?: boolean;
  /** Instruments for fuel (cpu limits, fuel budgets). */
  metered?: boolean;
}

export type CompiledModules = Record<string, WebAssembly.Module>;

export class WasmComponent implements LoadedComponent {
  #memoryMinPages: Record<string, number> | undefined;

  constructor(
    readonly digest: string,
    readonly transpiled: TranspiledComponent,
  ) {}

  /** Initial pages of the memory each core module defines (by module name), read once. */
  get memoryMinPages(): Record<string, number> {
    this.#memoryMinPages ??= Object.fromEntries(Object.entries(this.transpiled.coreModules).map(([name, bytes]) => [name, definedMemoryMinPages(bytes)]));
    return this.#memoryMinPages;
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
}

const DEFAULT_MEMORY_CACHE_BYTES = 256 * 1024 * 1024;

export class ComponentLoader {
  readonly #disk: ComponentDiskCache | undefined;
  readonly #transpiled: LRUCache<string, WasmComponent>;
  readonly #compiled: LRUCache<string, { modules: CompiledModules; sizeBytes: number }>;
  readonly #loading = new Map<string, Promise<WasmComponent>>();
  readonly #compiling = new Map<string, Promise<CompiledModules>>();
  readonly #transpiler = new TranspilerWorker();

  constructor(options: ComponentLoaderOptions = {}) {
    this.#disk = options.cacheDir ? new ComponentDiskCache(options.cacheDir) : undefined;
    const maxSize = options.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES;
    this.#transpiled = new LRUCache({ maxSize, sizeCalculation: (c) => transpiledBytes(c.transpiled) });
    this.#compiled = new LRUCache({ maxSize, sizeCalculation: (entry) => Math.max(1, entry.sizeBytes) });
  }

  load(digest: string, fetchBytes: () => Promise<Uint8Array>): Promise<WasmComponent> {
    const cached = this.#transpiled.get(digest);
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
    let transpiled = await this.#disk?.read(hex);
    if (!transpiled) {
      const bytes = await fetchBytes();
      verifyDigest(digest, bytes);
      // rejects non-wasm here, without a round trip to the transpiler; preview 1 modules need none
      transpiled = detectBinaryKind(bytes) === 'core-module' ? preview1Component(bytes) : await this.#transpiler.transpile(bytes);
      // compile before caching, so bytes that transpile but do not compile never reach the disk
      await this.#compile(digest, transpiled, {});
      await this.#disk?.write(hex, transpiled);
    }
    const component = new WasmComponent(digest, transpiled);
    this.#transpiled.set(digest, component);
    return component;
  }

  /** Ends the transpiler worker. */
  close(): Promise<void> {
    return this.#transpiler.close();
  }

  /** Compiled core modules of a component for a variant, compiled at most once while cached. */
  modules(component: WasmComponent, variant: ModuleVariant): Promise<CompiledModules> {
    return this.#compile(component.digest, component.transpiled, variant);
  }

  #compile(digest: string, transpiled: TranspiledComponent, variant: ModuleVariant): Promise<CompiledModules> {
    const key = `${digest}|mem=${variant.memoryMaxPages ?? '-'}|acct=${accountsMemory(variant) ? 1 : 0}|fuel=${variant.metered ? 1 : 0}`;
    const cached = this.#compiled.get(key);
    if (cached) return Promise.resolve(cached.modules);
    let pending = this.#compiling.get(key);
    if (!pending) {
      pending = compileVariant(transpiled, variant)
        .then((modules) => {
          // compiled code is a few times larger than the bytes; the bytes are a fair proxy for LRU order
          const sizeBytes = Object.values(transpiled.coreModules).reduce((n, b) => n + b.length, 0);
          this.#compiled.set(key, { modules, sizeBytes });
          return modules;
        })
        .finally(() => this.#compiling.delete(key));
      this.#compiling.set(key, pending);
    }
    return pending;
  }
}

async function compileVariant(transpiled: TranspiledComponent, variant: ModuleVariant): Promise<CompiledModules> {
  const modules: CompiledModules = {};
  for (const [name, original] of Object.entries(transpiled.coreModules)) {
    try {
      modules[name] = await WebAssembly.compile(rewriteForVariant(original, variant));
    } catch (error) {
      if (error instanceof MemoryLimitError) throw error;
      throw new InvalidComponentError(`invalid core module ${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  return modules;
}

const accountsMemory = (variant: ModuleVariant): boolean => variant.accountMemory === true || variant.memoryMaxPages !== undefined;

function rewriteForVariant(bytes: Uint8Array, variant: ModuleVariant): Uint8Array {
  const instrumented = instrumentModule(bytes, { meterFuel: variant.metered ?? false, accountMemory: accountsMemory(variant) });
  return variant.memoryMaxPages === undefined ? instrumented : capMemory(instrumented, variant.memoryMaxPages);
}

function transpiledBytes(transpiled: TranspiledComponent): number {
  return transpiled.source.length + Object.values(transpiled.coreModules).reduce((n, b) => n + b.length, 0);
}
