// `skiff run`: runs one component (or preview 1 module) locally with limits, like `wasmtime run`:
// options before the file, guest arguments after it, stdio and the exit code passed through.
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { parseBytes, parseMillicores } from '../api/quantity.js';
import { digestOf } from '../runtime/component-digest.js';
import type { ContainerExit, ContainerLimits, Preopen } from '../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';

interface RunOptions {
  env: Array<[string, string]>;
  dir: Preopen[];
  fuel?: bigint;
  memory?: number;
  cpu?: number;
  cacheDir?: string;
}

export function registerRunCommand(program: Command): void {
  // guest arguments after FILE must reach the guest even when they look like options
  program.enablePositionalOptions();
  program
    .command('run')
    .description('run a WASI component or preview 1 module locally, like wasmtime run')
    .argument('<file>', 'component or core module (.wasm)')
    .argument('[args...]', 'arguments for the guest (argv[0] is the file name)')
    .option('--env <NAME=VALUE>', 'set an environment variable (NAME alone: take it from this environment)', collectEnv, [])
    .option('--dir <HOST[::GUEST]>', 'preopen a host directory, at GUEST (default: the same path)', collectDir, [])
    .option('--fuel <N>', 'hard fuel budget: the guest ends when it is spent', parseFuel)
    .option('--memory <SIZE>', 'cap on each linear memory, e.g. 64Mi', parseMemory)
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
      args: [file, ...args],
      env: options.env,
      limits,
      preopens: options.dir,
      stdin,
      onOutput: (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
    });
    const interrupt = () => void container.stop(0);
    process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
    const exit = await container.exited;
    process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
    const reason = reasonLine(exit);
    if (reason) process.stderr.write(`skiff run: ${reason}\n`);
    return exit.exitCode;
  } finally {
    await runtime.close();
  }
}

/** One line saying why the guest ended, when that is more than its own exit code. */
function reasonLine(exit: ContainerExit): string | undefined {
  switch (exit.reason) {
    case 'Completed':
      return undefined;
    case 'Error':
      return exit.message ? `error: ${exit.message}` : undefined;
    case 'OOMKilled':
      return `out of memory: ${exit.message ?? 'memory limit reached'}`;
    case 'FuelExhausted':
      return `out of fuel: ${exit.message ?? 'fuel budget exhausted'}`;
    case 'Killed':
      return 'killed';
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function collectEnv(value: string, previous: Array<[string, string]>): Array<[string, string]> {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (name === '') throw new InvalidArgumentError('must be NAME=VALUE or NAME');
  return [...previous, [name, eq < 0 ? (process.env[name] ?? '') : value.slice(eq + 1)]];
}

function collectDir(value: string, previous: Preopen[]): Preopen[] {
  const [hostPath, guestPath, ...rest] = value.split('::');
  if (!hostPath || guestPath === '' || rest.length > 0) throw new InvalidArgumentError('must be HOST or HOST::GUEST');
  let canonical: string;
  try {
    canonical = realpathSync(hostPath); // the runtime takes canonical paths only
  } catch {
    throw new InvalidArgumentError(`${hostPath}: no such directory`);
  }
  if (!statSync(canonical).isDirectory()) throw new InvalidArgumentError(`${hostPath} is not a directory`);
  return [...previous, { hostPath: canonical, guestPath: guestPath ?? hostPath, readOnly: false }];
}

function parseFuel(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return BigInt(value);
}

function parseMemory(value: string): number {
  try {
    return parseBytes(value);
  } catch {
    throw new InvalidArgumentError('must be a size like 64Mi, 1Gi or 1048576');
  }
}

function parseCpu(value: string): number {
  try {
    return parseMillicores(value);
  } catch {
    throw new InvalidArgumentError('must be a CPU quantity like 500m or 1');
  }
}
