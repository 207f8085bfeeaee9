import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// only the run command, so this test does not depend on the rest of the CLI
const ENTRY = `
  import { Command } from 'commander';
  import { registerRunCommand } from './cli/run.ts';
  const program = new Command('skiff');
  registerRunCommand(program);
  await program.parseAsync(process.argv.slice(1), { from: 'user' }); // node -e: argv has no script path
`;

function skiffRun(args: string[], stdin = '', env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const childEnv = env ? { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WHO')), ...env } : process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, 'run', ...args], { cwd: REPO, env: childEnv });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
    child.stdin.end(stdin);
  });
}

describe('skiff run', () => {
  it('passes guest arguments after the file, env, stdin, stdout and the exit code through; argv[0] is the base name', async () => {
    const result = await skiffRun(
      ['--env', 'WHO=cli', '--env', 'EXIT_CODE=3', '--env', 'ECHO_STDIN=1', 'wasm-examples/hello/hello.wasm', '--env', 'x'],
      'from stdin\n',
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('hello, cli!\nargv[0]=hello.wasm\nargv[1]=--env\nargv[2]=x\nfrom stdin\n');
    expect(result.stderr).toBe('hello: a line on stderr\n');
  });

  it('passes on --env NAME from its own environment, and leaves it unset when it has none', async () => {
    const env = await skiffRun(['--env', 'WHO', 'wasm-examples/hello/hello.wasm'], '', { WHO: 'from the parent' });
    expect(env.stdout).toContain('hello, from the parent!');
    const unset = await skiffRun(['--env', 'WHO', 'wasm-examples/hello/hello.wasm'], '', {});
    expect(unset.stdout).toContain('hello, world!'); // unset in the guest, so hello's default
  });

  it('reports a trap as wasmtime does (exit 134, the trap in its words) and fuel spent as a trap too', async () => {
    const [trap, fuel] = await Promise.all([
      skiffRun(['wasm-examples/trap/trap.wasm']),
      skiffRun(['--fuel', '1000000', 'wasm-examples/spin/spin.wasm']),
    ]);
    expect(trap.code).toBe(134);
    expect(trap.stderr).toBe('Error: failed to run main module `trap.wasm`\n\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed\n');
    expect(fuel.code).toBe(134);
    expect(fuel.stderr).toBe('Error: failed to run main module `spin.wasm`\n\nCaused by:\n    wasm trap: all fuel consumed by WebAssembly\n');
  });

  it('runs a plain preview 1 module whose malloc returns NULL at --memory, every block intact, and keeps its exit code', async () => {
    const result = await skiffRun(['--memory', '32Mi', 'test/guests/c/alloc.wasm']);
    expect(result.code).toBe(1);
    const [guest, runner] = result.stderr.trimEnd().split('\n');
    expect(guest).toMatch(/^alloc: malloc returned NULL after 3\d{4} KiB in \d+ blocks, 0 corrupted$/);
    expect(runner).toBe('skiff run: memory limit of 33554432 bytes reached');
    const trapped = await skiffRun(['--memory', '16Mi', '--env', 'ON_NULL=trap', 'test/guests/c/alloc.wasm']);
    expect(trapped.code).toBe(134);
    expect(trapped.stderr).toMatch(/Caused by:\n    wasm trap: wasm `unreachable` instruction executed\nskiff run: memory limit of 16777216 bytes reached\n$/);
  });

  it('gives the guest a host directory at the guest path of --dir, read-only with ::ro', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/skiff-run-`);
    try {
      const result = await skiffRun(['--dir', `${dir}::/data`, '--env', 'MESSAGE=written', 'wasm-examples/filewriter/filewriter.wasm']);
      expect(result.code).toBe(0);
      expect(await readFile(`${dir}/out.txt`, 'utf8')).toBe('written\n');
      const readOnly = await skiffRun(['--dir', `${dir}::/data::ro`, '--env', 'MESSAGE=again', 'wasm-examples/filewriter/filewriter.wasm']);
      expect(readOnly.code).toBe(1);
      expect(readOnly.stderr).toMatch(/Operation not permitted/);
      expect(await readFile(`${dir}/out.txt`, 'utf8')).toBe('written\n');
      const bad = await skiffRun(['--dir', `${dir}::/data::rx`, 'wasm-examples/filewriter/filewriter.wasm']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/must be HOST, HOST::GUEST or HOST::GUEST::ro/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--invoke calls a core module\'s export (after _initialize) with typed arguments and prints the results', async () => {
    const { parse } = await import('@bytecodealliance/jco');
    const { PREVIEW1_REACTOR_WAT } = await import('./support/wat-components.js');
    const file = await tempWasm(await parse(PREVIEW1_REACTOR_WAT));
    try {
      const [add, scale, wide, missing, bad] = await Promise.all([
        skiffRun(['--invoke', 'add', file, '2', '3']),
        skiffRun(['--invoke', 'scale', file, '3']),
        skiffRun(['--invoke', 'wide', file, '-9223372036854775808']),
        skiffRun(['--invoke', 'nope', file]),
        skiffRun(['--invoke', 'add', file, '1', 'x']),
      ]);
      expect(add).toMatchObject({ code: 0, stdout: '105\n' });
      expect(scale).toMatchObject({ code: 0, stdout: '4.5\n' });
      expect(wide).toMatchObject({ code: 0, stdout: '-9223372036854775808\n-1\n' });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('failed to find export function `nope`');
      expect(bad.stderr).toContain('failed to parse argument `x` as i32');
    } finally {
      await rmTemp(file);
    }
  });

  it('--invoke calls a component\'s function, top-level or in an interface, with WAVE arguments and results', async () => {
    const { calculatorComponent } = await import('./support/wat-components.js');
    const file = await tempWasm(await calculatorComponent());
    try {
      const [add, length, double, plain, missing] = await Promise.all([
        skiffRun(['--invoke', 'add(40, 2)', file]),
        skiffRun(['--invoke', 'length("héllo")', file]),
        skiffRun(['--invoke', 'double(-21)', file]),
        skiffRun(['--invoke', 'add', file, '1', '2']),
        skiffRun(['--invoke', 'nope()', file]),
      ]);
      expect(add).toMatchObject({ code: 0, stdout: '42\n' });
      expect(length).toMatchObject({ code: 0, stdout: '6\n' });
      expect(double).toMatchObject({ code: 0, stdout: '-42\n' });
      expect(plain).toMatchObject({ code: 0, stdout: '3\n' });
      expect(missing.stderr).toContain('No exported func named `nope` in component.');
    } finally {
      await rmTemp(file);
    }
    }, 90_000); // five skiff processes, each transpiling: slow on a loaded 2-core machine
});

describe('WASI conformance guests through skiff run', () => {
  it('passes every check of the C, Rust and AssemblyScript guests (preview 1 modules) and exits 0', async () => {
    const { CONFORMANCE_ARGS, CONFORMANCE_ENV, CONFORMANCE_STDIN, conformanceDirs, failedChecks } = await import('./support/conformance-guests.js');
    const guests = ['test/guests/c/wasi-conformance.wasm', 'test/guests/rust/wasi-conformance.wasm', 'test/guests/as/wasi-conformance.wasm'];
    const runs = await Promise.all(guests.map(async (guest) => {
      const dirs = await conformanceDirs();
      try {
        const options = ['--dir', `${dirs.scratch}::/scratch`, '--dir', `${dirs.ro}::/ro::ro`, ...CONFORMANCE_ENV.flatMap(([k, v]) => ['--env', `${k}=${v}`])];
        return { guest, ...(await skiffRun([...options, guest, ...CONFORMANCE_ARGS], CONFORMANCE_STDIN)) };
      } finally {
        await dirs.remove();
      }
    }));
    for (const run of runs) {
      expect({ guest: run.guest, failed: failedChecks(run.stdout), code: run.code }).toEqual({ guest: run.guest, failed: [], code: 0 });
      expect(run.stderr).toBe('stderr works\n');
    }
  });
});

async function tempWasm(bytes: Uint8Array): Promise<string> {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const file = `${await mkdtemp(`${tmpdir()}/skiff-invoke-`)}/guest.wasm`;
  await writeFile(file, bytes);
  return file;
}

async function rmTemp(file: string): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(file.replace(/\/guest\.wasm$/, ''), { recursive: true, force: true });
}
