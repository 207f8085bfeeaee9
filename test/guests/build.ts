// Rebuilds the test guests: `npx tsx test/guests/build.ts [--check] [name...]`.
// They are plain WASI preview 1 modules, built the way their users build them (no component
// tooling): C with Debian's clang and wasi-libc, Rust with Debian's rustc and its wasm32 standard
// library (libstd-rust-dev-wasm32), AssemblyScript with asc from npm. The built .wasm files are
// committed (tests run without the compilers); CI rebuilds them with `--check` (into a temp dir,
// compared byte for byte with the committed ones: the builds are deterministic, sources are given
// as paths relative to the repository) so a source cannot drift from what the tests run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentNew, preview1AdapterCommandPath } from '@bytecodealliance/jco';

const GUESTS_DIR = fileURLToPath(new URL('.', import.meta.url));
/**
 * C guests also built as components (NAME.component.wasm) with jco's preview 1 adapter, to run the
 * same checks through our WASI 0.2 host. Debian's wasi-libc exports no cabi_realloc: the examples' one is linked in.
 */
const ALSO_AS_COMPONENT = new Set(['wasi-conformance']);
const REPO_ROOT = join(GUESTS_DIR, '..', '..');
const LANGUAGES = { c: '.c', rust: '.rs', as: '.ts' } as const;
type Language = keyof typeof LANGUAGES;

interface Guest {
  name: string;
  language: Language;
  /** Relative to the repository (so builds embed no machine's path). */
  sources: string[];
  /** Where NAME.wasm goes. */
  outputDir: string;
}

/** `LANG/NAME.EXT`, or a directory `LANG/NAME/` (C: all its .c files; Rust: main.rs; AssemblyScript: index.ts). */
async function guests(): Promise<Guest[]> {
  const out: Guest[] = [];
  for (const language of Object.keys(LANGUAGES) as Language[]) {
    const dir = join(GUESTS_DIR, language);
    if (!existsSync(dir)) continue;
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = relative(REPO_ROOT, join(dir, entry.name));
      if (entry.isDirectory()) {
        const files = (await readdir(join(dir, entry.name))).sort();
        const sources = language === 'c' ? files.filter((f) => f.endsWith('.c')) : [language === 'rust' ? 'main.rs' : 'index.ts'].filter((f) => files.includes(f));
        if (sources.length > 0) out.push({ name: entry.name, language, sources: sources.map((f) => join(path, f)), outputDir: relative(REPO_ROOT, dir) });
      } else if (extname(entry.name) === LANGUAGES[language] && !entry.name.endsWith('.d.ts')) {
        out.push({ name: basename(entry.name, LANGUAGES[language]), language, sources: [path], outputDir: relative(REPO_ROOT, dir) });
      }
    }
  }
  return out;
}

/** Debian's rustc (what CI installs), else whatever rustc is on PATH. */
const rustc = (): string => (existsSync('/usr/bin/rustc') ? '/usr/bin/rustc' : 'rustc');

function build(guest: Guest, output: string): void {
  const run = (command: string, args: string[]): void => void execFileSync(command, args, { stdio: 'inherit', cwd: REPO_ROOT });
  switch (guest.language) {
    case 'c':
      return run('clang', ['--target=wasm32-wasi', '-O2', '-s', '-Wall', '-Werror', '-o', output, ...guest.sources]);
    case 'rust':
      return run(rustc(), ['--edition=2021', '--target', 'wasm32-wasi', '-O', '-C', 'strip=symbols', '-o', output, guest.sources[0]!]);
    case 'as':
      return run(process.execPath, ['node_modules/assemblyscript/bin/asc.js', guest.sources[0]!,
        '--config', 'test/guests/as/asconfig.json', '--target', 'release', '--outFile', output]);
  }
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const wanted = args.filter((a) => a !== '--check');
const all = await guests();
const unknown = wanted.filter((name) => !all.some((g) => g.name === name));
if (unknown.length > 0) {
  console.error(`unknown guest(s): ${unknown.join(', ')}; known: ${all.map((g) => g.name).join(', ')}`);
  process.exit(2);
}
const scratch = await mkdtemp(join(tmpdir(), 'skiff-guests-'));
const stale: string[] = [];
try {
  for (const guest of all.filter((g) => wanted.length === 0 || wanted.includes(g.name))) {
    const started = performance.now();
    const built = join(scratch, `${guest.name}.wasm`);
    build(guest, built);
    const outputs: Array<[string, string]> = [[built, join(REPO_ROOT, guest.outputDir, `${guest.name}.wasm`)]];
    if (guest.language === 'c' && ALSO_AS_COMPONENT.has(guest.name)) {
      const core = join(scratch, `${guest.name}.realloc.wasm`);
      build({ ...guest, sources: [...guest.sources, 'wasm-examples/c/cabi_realloc.c'] }, core);
      const component = await componentNew(await readFile(core), [['wasi_snapshot_preview1', await readFile(preview1AdapterCommandPath())]]);
      await writeFile(join(scratch, `${guest.name}.component.wasm`), component);
      outputs.push([join(scratch, `${guest.name}.component.wasm`), join(REPO_ROOT, guest.outputDir, `${guest.name}.component.wasm`)]);
    }
    for (const [from, committed] of outputs) {
      if (!check) await copyFile(from, committed);
      else if (!(await readFile(from)).equals(await readFile(committed).catch(() => Buffer.alloc(0)))) stale.push(relative(REPO_ROOT, committed));
    }
    console.log(`${guest.language}/${guest.name}: built in ${(performance.now() - started).toFixed(0)} ms${check ? ' (compared)' : ''}`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
if (stale.length > 0) {
  console.error(`stale (the committed build differs from its source): ${stale.join(', ')}; rebuild with npx tsx test/guests/build.ts`);
  process.exit(1);
}
