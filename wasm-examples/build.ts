// Rebuilds the example components: `npx tsx wasm-examples/build.ts [name...]`.
// C examples need Debian's clang + wasi-libc (the built .wasm files are committed, so tests do
// not); WAT examples are built in-process with jco's wasm-tools.
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire, register } from 'node:module';
import { mkdir } from 'node:fs/promises';
import { componentEmbed, componentNew, parse, preview1AdapterCommandPath, preview1AdapterReactorPath } from '@bytecodealliance/jco';

const EXAMPLES_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * A C example calling WASI 0.2 interfaces directly (hand-written canonical ABI imports/exports)
 * names its world; its WIT gets the WASI packages it uses appended from jco's bundled 0.2.12 WIT.
 * `reactor` links it with the preview 1 reactor adapter (no wasi:cli/run export).
 */
interface CWorld {
  wit: string;
  world: string;
  packages: string[];
  reactor?: boolean;
}

type Example =
  | { name: string; language: 'c'; world?: CWorld }
  | { name: string; language: 'wat' | 'js'; world: string; wit: string };

const COMMAND_WIT = 'wit/command.wit';
export const EXAMPLES: Example[] = [
  { name: 'hello', language: 'c' },
  { name: 'memhog', language: 'c' },
  { name: 'trap', language: 'wat', world: 'command', wit: COMMAND_WIT },
  { name: 'spin', language: 'wat', world: 'command', wit: COMMAND_WIT },
  { name: 'cpuhog', language: 'c' },
  { name: 'pi', language: 'c' },
  { name: 'filewriter', language: 'c' },
  { name: 'fsutil', language: 'c' },
  { name: 'sleep', language: 'c' },
  { name: 'probed', language: 'c' },
  { name: 'http-hello', language: 'js', world: 'http-handler', wit: 'wit/http-handler.wit' },
  {
    name: 'http-health',
    language: 'c',
    world: { wit: 'wit/http-health.wit', world: 'http-health', packages: ['wasi-http', 'wasi-io', 'wasi-clocks'], reactor: true },
  },
  {
    name: 'http-fetch',
    language: 'c',
    world: { wit: 'wit/http-fetch.wit', world: 'http-fetch', packages: ['wasi-http', 'wasi-io', 'wasi-clocks'], reactor: true },
  },
  {
    name: 'nslookup',
    language: 'c',
    world: { wit: 'wit/nslookup.wit', world: 'nslookup', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'tcp-listen',
    language: 'c',
    world: { wit: 'wit/tcp-listen.wit', world: 'tcp-listen', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'tcp-echo',
    language: 'c',
    world: { wit: 'wit/tcp-echo.wit', world: 'tcp-echo', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'tcp-upgrade',
    language: 'c',
    world: { wit: 'wit/tcp-echo.wit', world: 'tcp-echo', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'tcp-client',
    language: 'c',
    world: { wit: 'wit/tcp-echo.wit', world: 'tcp-echo', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'udp-echo',
    language: 'c',
    world: { wit: 'wit/udp.wit', world: 'udp', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
  {
    name: 'udp-client',
    language: 'c',
    world: { wit: 'wit/udp.wit', world: 'udp', packages: ['wasi-sockets', 'wasi-io', 'wasi-clocks'] },
  },
];

async function buildC(name: string, world: CWorld | undefined): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), `skiff-${name}-`));
  try {
    const core = join(dir, `${name}.core.wasm`);
    execFileSync('clang', [
      '--target=wasm32-wasi', '-O2', '-s', ...(world?.reactor ? ['-mexec-model=reactor'] : []), '-o', core,
      join(EXAMPLES_DIR, name, `${name}.c`), join(EXAMPLES_DIR, 'c', 'cabi_realloc.c'),
    ], { stdio: 'inherit' });
    let module: Uint8Array = new Uint8Array(await readFile(core));
    if (world) {
      const witSource = (await readFile(join(EXAMPLES_DIR, world.wit), 'utf8')) + (await Promise.all(world.packages.map(nestedWasiPackage))).join('\n');
      module = await componentEmbed({ binary: module, witSource, world: world.world });
    }
    const adapter = await readFile(world?.reactor ? preview1AdapterReactorPath() : preview1AdapterCommandPath());
    return await componentNew(module, [['wasi_snapshot_preview1', adapter]]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// A WASI package of jco's bundled 0.2.12 WIT (the preview 1 adapter's version) as a nested
// `package wasi:x@0.2.12 { ... }` block, its worlds dropped (they pull in packages not needed).
async function nestedWasiPackage(pkg: string): Promise<string> {
  const text = await readFile(join(JCO_WIT, '0.2.12', pkg, 'package.wit'), 'utf8');
  const withoutWorlds = text.replace(/^(?:[ \t]*(?:\/\/.*|@\w+\([^)]*\))\n)*world [\w-]+ \{[^}]*\}/gm, '');
  return `${withoutWorlds.replace(/^package ([^;]+);/m, 'package $1 {')}\n}\n`;
}

async function buildWat(name: string, world: string, witPath: string): Promise<Uint8Array> {
  const core = await parse(await readFile(join(EXAMPLES_DIR, name, `${name}.wat`), 'utf8'));
  const witSource = await readFile(join(EXAMPLES_DIR, witPath), 'utf8');
  return componentNew(await componentEmbed({ binary: core, witSource, world }), []);
}

// jco bundles WASI WIT: take io and clocks at 0.2.10, and http from 0.2.12 relabelled 0.2.10
// (its worlds dropped: they pull in packages the handler does not need).
const JCO_WIT = join(dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco')), '..', 'lib', 'wit', 'builtin');

// componentize-js imports @bytecodealliance/preview2-shim, which npm installed only inside jco's
// own node_modules: resolve it from there. Its filesystem also starts with no preopens, so the
// WIT directory could not be read ("os error 44") without giving it '/'.
async function loadComponentize(): Promise<typeof import('@bytecodealliance/componentize-js').componentize> {
  const jcoUrl = pathToFileURL(createRequire(import.meta.url).resolve('@bytecodealliance/jco')).href;
  const hook = `export async function resolve(specifier, context, next) {
    try { return await next(specifier, context); } catch (error) {
      if (!specifier.startsWith('@bytecodealliance/preview2-shim')) throw error;
      return next(specifier, { ...context, parentURL: ${JSON.stringify(jcoUrl)} });
    }
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const shimFilesystem = '@bytecodealliance/preview2-shim/filesystem';
  const { _setPreopens } = (await import(shimFilesystem)) as { _setPreopens(preopens: Record<string, string>): void };
  _setPreopens({ '/': '/' });
  return (await import('@bytecodealliance/componentize-js')).componentize;
}

async function buildJs(name: string, world: string, witPath: string): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), `skiff-${name}-`));
  try {
    const deps = join(dir, 'deps');
    for (const pkg of ['wasi-io', 'wasi-clocks']) {
      await mkdir(join(deps, pkg), { recursive: true });
      await writeFile(join(deps, pkg, 'package.wit'), await readFile(join(JCO_WIT, '0.2.10', pkg, 'package.wit')));
    }
    const http = await readFile(join(JCO_WIT, '0.2.12', 'wasi-http', 'package.wit'), 'utf8');
    await mkdir(join(deps, 'wasi-http'), { recursive: true });
    await writeFile(join(deps, 'wasi-http', 'package.wit'), http.replace(/^world [\w-]+ \{[^}]*\}/gm, '').replaceAll('@0.2.12', '@0.2.10'));
    await writeFile(join(dir, 'world.wit'), await readFile(join(EXAMPLES_DIR, witPath)));
    const componentize = await loadComponentize();
    const { component } = await componentize({ sourcePath: join(EXAMPLES_DIR, name, `${name}.js`), witPath: dir, worldName: world });
    return component;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function build(example: Example): Promise<void> {
  const started = performance.now();
  const bytes =
    example.language === 'c'
      ? await buildC(example.name, example.world)
      : example.language === 'js'
        ? await buildJs(example.name, example.world, example.wit)
        : await buildWat(example.name, example.world, example.wit);
  await writeFile(join(EXAMPLES_DIR, example.name, `${example.name}.wasm`), bytes);
  console.log(`${example.name}: ${bytes.length} bytes in ${(performance.now() - started).toFixed(0)} ms`);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !EXAMPLES.some((e) => e.name === name));
if (unknown.length > 0) {
  console.error(`unknown example(s): ${unknown.join(', ')}; known: ${EXAMPLES.map((e) => e.name).join(', ')}`);
  process.exit(2);
}
for (const example of EXAMPLES.filter((e) => wanted.length === 0 || wanted.includes(e.name))) await build(example);
