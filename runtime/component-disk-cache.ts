// On-disk cache of transpiled components, keyed by digest and runtime cache version, so an agent
// restart does not transpile again. Entries are written to a temp dir and renamed into place.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TranspiledComponent } from './transpiler/component-transpiler.js';

/** Bump when the transpiler options, jco version or cached layout change. */
export const RUNTIME_CACHE_VERSION = 'v3-jco1.35.0';

interface Manifest {
  exports: string[];
  coreModules: string[];
  preview1?: boolean;
}

export class ComponentDiskCache {
  readonly #root: string;

  constructor(cacheDir: string) {
    this.#root = join(cacheDir, RUNTIME_CACHE_VERSION);
  }

  async read(digestHex: string): Promise<TranspiledComponent | undefined> {
    const dir = join(this.#root, digestHex);
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      const coreModules: Record<string, Uint8Array> = {};
      for (const name of manifest.coreModules) {
        coreModules[name] = new Uint8Array(await readFile(join(dir, 'core', safeName(name))));
      }
      const source = await readFile(join(dir, 'component.js'), 'utf8');
      return { source, coreModules, exports: manifest.exports, ...(manifest.preview1 ? { preview1: true } : {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') await rm(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  async write(digestHex: string, component: TranspiledComponent): Promise<void> {
    const finalDir = join(this.#root, digestHex);
    const tempDir = join(this.#root, `.tmp-${digestHex}-${randomUUID()}`);
    await mkdir(join(tempDir, 'core'), { recursive: true });
    try {
      const names = Object.keys(component.coreModules);
      for (const name of names) await writeFile(join(tempDir, 'core', safeName(name)), component.coreModules[name]!);
      await writeFile(join(tempDir, 'component.js'), component.source);
      const manifest: Manifest = { exports: component.exports, coreModules: names, ...(component.preview1 ? { preview1: true } : {}) };
      // manifest last: a reader that finds it finds everything else too
      await writeFile(join(tempDir, 'manifest.json'), JSON.stringify(manifest));
      await rename(tempDir, finalDir);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      // another loader won the race: its entry is as good as ours
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }

  /** Digests (hex) present on disk. */
  async list(): Promise<string[]> {
    const names = await readdir(this.#root).catch(() => [] as string[]);
    return names.filter((name) => !name.startsWith('.'));
  }
}

// core module names come from jco (`component.core2.wasm`); never let one name a path elsewhere
function safeName(name: string): string {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) throw new Error(`unsafe core module name "${name}"`);
  return name;
}
