// Rebuilds the test guests: `npx tsx test/guests/build.ts [--check] [name...]`.
// They are plain WASI preview 1 modules, built the way their users build them (no component
// tooling): C with Debian's clang and wasi-libc, Rust with Debian's rustc and its wasm32 standard
// library (libstd-rust-dev-wasm32), AssemblyScript with asc from npm. The built .wasm files are
// committed (tests run without the compilers); CI rebuilds them with `--check` (into a temp dir,
// compared byte for byte with the committed ones: the builds are deterministic, sources are given
// as paths relative to the repository) so a source cannot drift from what the tests run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const GUESTS_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = join(GUESTS_DIR, '..', '..');
const LANGUAGES = { c: '.c', rust: '.rs', as: '.ts' } as const;
type Language = keyof typeof LANGUAGES;

interface Guest {
  name: string;
  language: Language;
  source: string;
}

async function guests(): Promise<Guest[]> {
  const out: Guest[] = [];
  for (const language of Object.keys(LANGUAGES) as Language[]) {
    const dir = join(GUESTS_DIR, language);
    if (!existsSync(dir)) continue;
    for (const file of (await readdir(dir)).sort()) {
      if (extname(file) === LANGUAGES[language] && !file.endsWith('.d.ts')) {
        out.push({ name: basename(file, LANGUAGES[language]), language, source: relative(REPO_ROOT, join(dir, file)) });
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
      return run('clang', ['--target=wasm32-wasi', '-O2', '-s', '-Wall', '-Werror', '-o', output, guest.source]);
    case 'rust':
      return run(rustc(), ['--edition=2021', '--target', 'wasm32-wasi', '-O', '-C', 'strip=symbols', '-o', output, guest.source]);
    case 'as':
      return run(process.execPath, ['node_modules/assemblyscript/bin/asc.js', guest.source,
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
    const committed = join(REPO_ROOT, dirname(guest.source), `${guest.name}.wasm`);
    if (!check) await copyFile(built, committed);
    else if (!(await readFile(built)).equals(await readFile(committed).catch(() => Buffer.alloc(0)))) stale.push(relative(REPO_ROOT, committed));
    console.log(`${guest.language}/${guest.name}: built in ${(performance.now() - started).toFixed(0)} ms${check ? ' (compared)' : ''}`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
if (stale.length > 0) {
  console.error(`stale (the committed build differs from its source): ${stale.join(', ')}; rebuild with npx tsx test/guests/build.ts`);
  process.exit(1);
}
