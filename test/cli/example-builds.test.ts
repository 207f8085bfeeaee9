// `skiff up` builds the examples that are not committed in the background and pushes them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAndPushExamples, unbuiltExamples } from '../../cli/example-builds.js';
import type { ComponentRegistry } from '../../control-plane/registry/component-registry.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-examples-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('examples built on demand', () => {
  it('lists example directories with a recipe whose .wasm is missing', async () => {
    await writeFile(join(root, 'build.ts'), `const EXAMPLES = [{ name: 'hello', language: 'c' }, { name: 'http-hello', language: 'js' }];`);
    for (const dir of ['hello', 'http-hello', 'wit', 'c']) await mkdir(join(root, dir));
    await writeFile(join(root, 'hello', 'hello.wasm'), 'x');
    expect(await unbuiltExamples(root)).toEqual(['http-hello']);
  });

  it('pushes each example once built, and says how to do it by hand when a build fails', async () => {
    const wasm = join(root, 'built.wasm');
    await writeFile(wasm, new Uint8Array([0, 97, 115, 109]));
    const pushes: string[] = [];
    const registry = { push: async (ref: string) => (pushes.push(ref), { ref: `${ref}@sha256:abc` }) } as unknown as ComponentRegistry;
    const lines: string[] = [];
    const pushed = await buildAndPushExamples(registry, ['http-hello', 'broken'], (line) => lines.push(line), async (name) => {
      if (name === 'broken') throw new Error('tsx is not installed');
      return wasm;
    });
    expect(pushed).toEqual(['examples/http-hello:latest@sha256:abc']);
    expect(pushes).toEqual(['examples/http-hello:latest']);
    expect(lines[0]).toMatch(/^skiff: built examples\/http-hello in \d+ s and pushed examples\/http-hello:latest@sha256:abc$/);
    expect(lines[1]).toBe('skiff: examples/broken was not built (tsx is not installed); build it with `npx tsx wasm-examples/build.ts broken` and push it with `skiff push wasm-examples/broken/broken.wasm examples/broken:latest`');
  });
});
