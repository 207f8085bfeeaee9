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

function skiffRun(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, 'run', ...args], { cwd: REPO });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
    child.stdin.end(stdin);
  });
}

describe('skiff run', () => {
  it('passes guest arguments after the file, env, stdin, stdout and the exit code through', async () => {
    const result = await skiffRun(
      ['--env', 'WHO=cli', '--env', 'EXIT_CODE=3', '--env', 'ECHO_STDIN=1', 'wasm-examples/hello/hello.wasm', '--env', 'x'],
      'from stdin\n',
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('hello, cli!\nargv[0]=wasm-examples/hello/hello.wasm\nargv[1]=--env\nargv[2]=x\nfrom stdin\n');
    expect(result.stderr).toBe('hello: a line on stderr\n');
  });

  it('ends with a non-zero code and a one-line reason naming fuel or memory', async () => {
    const [fuel, memory] = await Promise.all([
      skiffRun(['--fuel', '1000000', 'wasm-examples/spin/spin.wasm']),
      skiffRun(['--memory', '8Mi', 'wasm-examples/memhog/memhog.wasm']),
    ]);
    expect(fuel.code).toBe(152);
    expect(fuel.stderr).toMatch(/^skiff run: out of fuel: .*fuel.*\n$/);
    expect(memory.code).toBe(137);
    expect(memory.stderr.split('\n').at(-2)).toMatch(/^skiff run: out of memory: memory limit of 8388608 bytes reached \(it exited with code 1 after an allocation was refused\)$/);
  });

  it('runs a plain preview 1 module whose malloc returns NULL at --memory, every block intact', async () => {
    const result = await skiffRun(['--memory', '32Mi', 'test/guests/c/alloc.wasm']);
    expect(result.code).toBe(137);
    const [guest, runner] = result.stderr.trimEnd().split('\n');
    expect(guest).toMatch(/^alloc: malloc returned NULL after 3\d{4} KiB in \d+ blocks, 0 corrupted$/);
    expect(runner).toBe('skiff run: out of memory: memory limit of 33554432 bytes reached (it exited with code 1 after an allocation was refused)');
  });

  it('gives the guest a host directory at the guest path of --dir', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/skiff-run-`);
    try {
      const result = await skiffRun(['--dir', `${dir}::/data`, '--env', 'MESSAGE=written', 'wasm-examples/filewriter/filewriter.wasm']);
      expect(result.code).toBe(0);
      expect(await readFile(`${dir}/out.txt`, 'utf8')).toBe('written\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
