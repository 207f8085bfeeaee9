// `skiff run`: runs one component (or preview 1 module) locally with limits, as `wasmtime run` does:
// options before the file, guest arguments after it, argv[0] the file's base name, stdio passed
// through, the guest's exit code as ours, a trap reported as wasmtime reports it (exit 134),
// `--invoke` to call one export. Limits are skiff's: past --memory a grow fails in the guest.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { digestOf } from '../runtime/component-digest.js';
import type { ContainerExit, ContainerLimits, Preopen } from '../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { collectDir, collectEnv, parseCpu, parseFuel, parseMemory } from './run-options.js';

interface RunOptions {
  env: Array<[string, string]>;
  dir: Preopen[];
  fuel?: bigint;
  memory?: number;
  cpu?: number;
  cacheDir?: string;
  invoke?: string;
}

/** wasmtime exits 128 + SIGABRT when the guest traps (on unix). */
export const EXIT_TRAP = 134;
const EXIT_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

export function registerRunCommand(program: Command): void {
  // guest arguments after FILE must reach the guest even when they look like options
  program.enablePositionalOptions();
  program
    .command('run')
    .description('run a WASI component or preview 1 module locally, like wasmtime run')
    .argument('<file>', 'component or core module (.wasm)')
    .argument('[args...]', 'arguments for the guest (argv[0] is the file name), or for the --invoke function')
    .option('--env <NAME[=VALUE]>', 'set an environment variable (NAME alone: pass on this environment\'s value, if it has one)', collectEnv, [])
    .option('--dir <HOST[::GUEST[::ro]]>', 'preopen a host directory, at GUEST (default: the same path); ::ro makes it read-only', collectDir, [])
    .option('--invoke <FUNCTION>', 'call this export instead of running the command: a core module\'s with its arguments after the file, a component\'s as `name(arg, ...)` in WAVE')
    .option('--fuel <N>', 'hard fuel budget: the guest traps when it is spent', parseFuel)
    .option('--memory <SIZE>', 'cap on the guest\'s memories together, e.g. 64Mi: past it memory.grow fails', parseMemory)
    .option('--cpu <QUANTITY>', 'CPU quota, e.g. 500m or 1', parseCpu)
    .option('--cache-dir <DIR>', 'keep transpiled components here between runs')
    .passThroughOptions()
    .action(async (file: string, args: string[], options: RunOptions) => {
      process.exitCode = await runFile(file, args, options);
    });
}

async function runFile(file: string, args: string[], options: RunOptions): Promise<number> {
  const bytes = new Uint8Array(await readFile(file));
  // the guest starts with all of stdin: reading it lazily would need a blocking bridge
  const stdin = process.stdin.isTTY ? new Uint8Array() : new Uint8Array(await readAll(process.stdin));
  const runtime = new WasmPodRuntime({ warmWorkers: 0, cacheDir: options.cacheDir });
  try {
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    const limits: ContainerLimits = { memoryBytes: options.memory, cpuMillis: options.cpu, fuel: options.fuel };
    const container = await runtime.start({
      id: basename(file),
      component,
      // as wasmtime: argv[0] is the module's base name, so no host path leaks in
      args: options.invoke ? [basename(file)] : [basename(file), ...args],
      env: options.env,
      limits,
      preopens: options.dir,
      stdin,
      ...(options.invoke ? { invoke: { name: options.invoke, args } } : {}),
      onOutput: (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
    });
    let signal: keyof typeof EXIT_SIGNALS | undefined;
    const interrupt = (name: keyof typeof EXIT_SIGNALS) => {
      signal = name;
      void container.stop(0);
    };
    const onInt = () => interrupt('SIGINT');
    const onTerm = () => interrupt('SIGTERM');
    process.once('SIGINT', onInt).once('SIGTERM', onTerm);
    const exit = await container.exited;
    process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    for (const line of exit.results ?? []) process.stdout.write(`${line}\n`);
    const { code, report } = exitCodeOf(exit, basename(file), signal);
    if (report) process.stderr.write(report);
    return code;
  } finally {
    await runtime.close();
  }
}

/** Our exit code and what stderr says about the end, as wasmtime would say it (plus skiff's limits). */
export function exitCodeOf(exit: ContainerExit, module: string, signal?: keyof typeof EXIT_SIGNALS): { code: number; report?: string } {
  const limitNote = exit.reason === 'OOMKilled' ? `skiff run: ${exit.message?.replace(/ \(.*\)$/, '') ?? 'memory limit reached'}\n` : '';
  if (exit.reason === 'Killed') return { code: signal ? EXIT_SIGNALS[signal] : 137 };
  if (exit.trap) return { code: EXIT_TRAP, report: `Error: failed to run main module \`${module}\`\n\nCaused by:\n    ${exit.trap}\n${limitNote}` };
  if (exit.guestExitCode !== undefined) return { code: exit.guestExitCode, report: limitNote || undefined };
  if (exit.reason === 'Completed') return { code: 0 };
  // it never ran: could not be instantiated, nothing to run, or --invoke did not fit
  return { code: 1, report: `Error: failed to run main module \`${module}\`\n\nCaused by:\n    ${exit.message ?? exit.reason}\n` };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
