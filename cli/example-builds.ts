// Examples that are built, not committed (http-hello: 14 MB of componentize-js output): `skiff up`
// builds each missing one in the background with wasm-examples/build.ts (npm packages only, ~20 s)
// and pushes it once built, so `skiff is ready` is not held up and every example ends up pushed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ComponentRegistry } from '../control-plane/registry/component-registry.js';
import { packageRoot } from './package-root.js';

/** Builds one example, resolving with the path of its .wasm; rejects with why it could not. */
export type ExampleBuilder = (name: string) => Promise<string>;

/** Example directories (with a build recipe in wasm-examples/build.ts) whose .wasm is missing. */
export async function unbuiltExamples(root = join(packageRoot(), 'wasm-examples')): Promise<string[]> {
  const recipes = await readFile(join(root, 'build.ts'), 'utf8').catch(() => '');
  const missing: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || existsSync(join(root, entry.name, `${entry.name}.wasm`))) continue;
    if (recipes.includes(`name: '${entry.name}'`)) missing.push(entry.name);
  }
  return missing.sort();
}

/** Runs `wasm-examples/build.ts NAME` with tsx (a dev dependency: present in a checkout after npm ci). */
export const buildWithTsx: ExampleBuilder = (name) => {
  const root = packageRoot();
  let tsx: string;
  try {
    tsx = createRequire(join(root, 'package.json')).resolve('tsx');
  } catch {
    return Promise.reject(new Error('tsx is not installed (a dev dependency: run npm ci in a checkout)'));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(root, 'wasm-examples', 'build.ts'), name], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const stop = () => child.kill(); // `skiff up` stopped before the build ended: no orphan
    process.once('exit', stop);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      process.off('exit', stop);
      const wasm = join(root, 'wasm-examples', name, `${name}.wasm`);
      if (code === 0 && existsSync(wasm)) resolve(wasm);
      else reject(new Error(`build failed (exit ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
};

/**
 * Builds and pushes the given examples one after the other; `say` gets one line per example
 * (pushed, or why not and how to do it by hand). Never rejects.
 */
export async function buildAndPushExamples(registry: ComponentRegistry, names: string[], say: (line: string) => void, build: ExampleBuilder = buildWithTsx): Promise<string[]> {
  const pushed: string[] = [];
  for (const name of names) {
    const started = Date.now();
    try {
      const wasm = await build(name);
      const { ref } = await registry.push(`examples/${name}:latest`, await readFile(wasm));
      pushed.push(ref);
      say(`skiff: built examples/${name} in ${Math.round((Date.now() - started) / 1000)} s and pushed ${ref}`);
    } catch (error) {
      say(`skiff: examples/${name} was not built (${(error as Error).message}); build it with \`npx tsx wasm-examples/build.ts ${name}\` and push it with \`skiff push wasm-examples/${name}/${name}.wasm examples/${name}:latest\``);
    }
  }
  return pushed;
}
