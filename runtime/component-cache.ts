// What the agents of one process share about components: one transpiler, the transpiled components
// and their compiled core modules, keyed by digest (and variant), each made once (single-flight:
// concurrent requests for one digest wait for one transpile). It hands a transpiled component only
// to a caller that presents bytes with that digest, so an agent sharing it still has to fetch a
// component with its own node credential (its own image pull authorization) before it runs it.
import { LRUCache } from 'lru-cache';
import { verifyDigest } from './component-digest.js';
import { detectBinaryKind } from './component-format.js';
import { preview1Component } from './preview1-module.js';
import type { TranspiledComponent } from './transpiler/component-transpiler.js';
import { TranspilerWorker } from './transpiler/transpiler-worker.js';
import { instrumentModule } from './limits/instrument-module.js';
import { capMemory, MemoryLimitError } from './limits/memory-cap.js';
import { InvalidComponentError } from './pod-runtime.js';

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

export interface ComponentCacheOptions {
  /** Bound of each in-memory cache (transpiled JS + core bytes; compiled modules). Default 256 MiB. */
  memoryCacheBytes?: number;
  /** Turns a component's bytes into JS + core modules (default: jco in a child process). */
  transpile?: (bytes: Uint8Array) => Promise<TranspiledComponent>;
}

const DEFAULT_MEMORY_CACHE_BYTES = 256 * 1024 * 1024;

export class ComponentCache {
  readonly #transpiled: LRUCache<string, TranspiledComponent>;
  readonly #compiled: LRUCache<string, { modules: CompiledModules; sizeBytes: number }>;
  readonly #transpiling = new Map<string, Promise<TranspiledComponent>>();
  readonly #compiling = new Map<string, Promise<CompiledModules>>();
  readonly #worker: TranspilerWorker | undefined;
  readonly #transpile: (bytes: Uint8Array) => Promise<TranspiledComponent>;

  constructor(options: ComponentCacheOptions = {}) {
    const maxSize = options.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES;
    this.#transpiled = new LRUCache({ maxSize, sizeCalculation: (t) => Math.max(1, transpiledBytes(t)) });
    this.#compiled = new LRUCache({ maxSize, sizeCalculation: (entry) => Math.max(1, entry.sizeBytes) });
    if (options.transpile) {
      this.#transpile = options.transpile;
    } else {
      const worker = (this.#worker = new TranspilerWorker());
      this.#transpile = (bytes) => worker.transpile(bytes);
    }
  }

  /**
   * The transpiled component of `bytes`, which must have `digest` (DigestMismatchError otherwise:
   * holding the digest alone gets nothing). Transpiled and validated (compiled) once per digest.
   */
  transpile(digest: string, bytes: Uint8Array): Promise<TranspiledComponent> {
    try {
      verifyDigest(digest, bytes);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const cached = this.#transpiled.get(digest);
    if (cached) return Promise.resolve(cached);
    let pending = this.#transpiling.get(digest);
    if (!pending) {
      pending = this.#transpileUncached(digest, bytes).finally(() => this.#transpiling.delete(digest));
      this.#transpiling.set(digest, pending);
    }
    return pending;
  }

  /** A component an agent read back from its own disk cache, shared with the others from now on. */
  remember(digest: string, transpiled: TranspiledComponent): TranspiledComponent {
    const cached = this.#transpiled.get(digest);
    if (cached) return cached;
    this.#transpiled.set(digest, transpiled);
    return transpiled;
  }

  async #transpileUncached(digest: string, bytes: Uint8Array): Promise<TranspiledComponent> {
    // rejects non-wasm here, without a round trip to the transpiler; preview 1 modules need none
    const transpiled = detectBinaryKind(bytes) === 'core-module' ? preview1Component(bytes) : await this.#transpile(bytes);
    // compile before caching, so bytes that transpile but do not compile are never handed out
    await this.modules(digest, transpiled, {});
    this.#transpiled.set(digest, transpiled);
    return transpiled;
  }

  /** Compiled core modules of a component for a variant, compiled at most once while cached. */
  modules(digest: string, transpiled: TranspiledComponent, variant: ModuleVariant): Promise<CompiledModules> {
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

  /** Ends the transpiler process (its owner calls this once every user is done). */
  close(): Promise<void> {
    return this.#worker?.close() ?? Promise.resolve();
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

export function transpiledBytes(transpiled: TranspiledComponent): number {
  return transpiled.source.length + Object.values(transpiled.coreModules).reduce((n, b) => n + b.length, 0);
}
