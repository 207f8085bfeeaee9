// WASI host benchmark: prints JSON figures. `npm run bench:wasi`.
// - one program (the C conformance guest) as a preview 1 module on our p1 host vs as a component
//   through jco's preview 1 adapter: load (parse vs transpile) and start -> exit
// - path operations through the fd-pinned walk (open + stat + close) vs the same calls with node:fs
//   on the host path, for a shallow and a deep path
// - memory.grow routed through the memory account vs the plain instruction
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { digestOf } from '../runtime/component-digest.js';
import { ComponentLoader } from '../runtime/component-loader.js';
import { instrumentModule } from '../runtime/limits/instrument-module.js';
import { MemoryAccount } from '../runtime/limits/memory-account.js';
import { createFilesystemImports, type Descriptor } from '../runtime/wasi/filesystem.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const guest = (path: string) => new Uint8Array(readFileSync(new URL(`../../test/guests/${path}`, import.meta.url)));

const ARGS = ['alpha', 'beta gamma', '', 'δέλτα'];
const ENV: Array<[string, string]> = [['CONF_ONE', '1'], ['CONF_TWO', 'two words'], ['CONF_EMPTY', ''], ['CONF_UNICODE', 'ünïcödé']];

async function preview1VersusAdapter() {
  const result: Record<string, unknown> = {};
  for (const [kind, path] of [['preview1Module', 'c/wasi-conformance.wasm'], ['adapterComponent', 'c/wasi-conformance.component.wasm']] as const) {
    const bytes = guest(path);
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const loader = new ComponentLoader();
      const started = performance.now();
      await loader.load(digestOf(bytes), async () => bytes);
      loads.push(performance.now() - started);
      await loader.close();
    }
    const runtime = new WasmPodRuntime({ warmWorkers: 1 });
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    const runs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const base = realpathSync(mkdtempSync(join(tmpdir(), 'skiff-bench-wasi-')));
      mkdirSync(join(base, 'scratch'));
      mkdirSync(join(base, 'ro'));
      writeFileSync(join(base, 'ro', 'ro.txt'), 'read only test file\n');
      const started = performance.now();
      const container = await runtime.start({
        id: `bench/${i}`, component, args: ['wasi-conformance', ...ARGS], env: ENV, stdin: new Uint8Array(),
        preopens: [{ hostPath: join(base, 'scratch'), guestPath: '/scratch', readOnly: false }, { hostPath: join(base, 'ro'), guestPath: '/ro', readOnly: true }],
      });
      const exit = await container.exited;
      runs.push(performance.now() - started);
      rmSync(base, { recursive: true, force: true });
      if (exit.exitCode !== 0) throw new Error(`${kind}: the guest failed: ${JSON.stringify(exit)}`);
    }
    await runtime.close();
    result[kind] = { bytes: bytes.length, loadMs: round(median(loads), 1), startToExitMs: round(median(runs.slice(5)), 1) };
  }
  const p1 = result['preview1Module'] as { startToExitMs: number; loadMs: number };
  const adapter = result['adapterComponent'] as { startToExitMs: number; loadMs: number };
  return { ...result, adapterOverPreview1: { load: round(adapter.loadMs / p1.loadMs, 1), startToExit: round(adapter.startToExitMs / p1.startToExitMs, 2) } };
}

function pathOperations() {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'skiff-bench-fs-')));
  try {
    mkdirSync(join(base, 'a', 'b', 'c', 'd'), { recursive: true });
    writeFileSync(join(base, 'file'), 'x');
    writeFileSync(join(base, 'a', 'b', 'c', 'd', 'file'), 'x');
    const files = { opened: () => true, closed: () => undefined };
    const control = { checkStop: () => undefined, sleepUntil: () => undefined };
    const imports = createFilesystemImports([{ hostPath: base, guestPath: '/', readOnly: false }], control, files);
    const [[root]] = imports['wasi:filesystem/preopens'].getDirectories() as [[Descriptor, string]];
    const dispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
    const measure = (operation: () => void) => {
      for (let i = 0; i < 500; i++) operation();
      const rounds: number[] = [];
      for (let r = 0; r < 7; r++) {
        const started = performance.now();
        for (let i = 0; i < 2000; i++) operation();
        rounds.push(((performance.now() - started) * 1000) / 2000);
      }
      return round(median(rounds), 2);
    };
    const guestOps = (path: string) => () => {
      const file = root.openAt({}, path, {}, { read: true });
      file.stat();
      (file as unknown as Record<symbol, () => void>)[dispose]!();
    };
    const hostOps = (path: string) => () => {
      const fd = openSync(join(base, path), 'r');
      fstatSync(fd);
      closeSync(fd);
    };
    const figures = {
      shallowUs: { guest: measure(guestOps('file')), nodeFs: measure(hostOps('file')) },
      deepUs: { guest: measure(guestOps('a/b/c/d/file')), nodeFs: measure(hostOps('a/b/c/d/file')) },
    };
    return { ...figures, note: 'open + stat + close: by a guest path through the host (every directory on the way opened and closed), and with node:fs directly' };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function growAccounting() {
  const wat = `(module (memory 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;
  const bytes = await parse(wat);
  const plainModule = await WebAssembly.compile(bytes);
  const accountedModule = await WebAssembly.compile(instrumentModule(bytes, { meterFuel: false, accountMemory: true }));
  const plain = () => new WebAssembly.Instance(plainModule).exports['grow'] as (n: number) => number;
  const accounted = () => {
    const account = new MemoryAccount({ limitPages: 4096, poolPages: { cells: new Int32Array(1), index: 0 }, minPages: () => 1 });
    account.beforeInstantiate(accountedModule);
    const instance = new WebAssembly.Instance(accountedModule);
    account.attach(instance);
    return instance.exports['grow'] as (n: number) => number;
  };
  // fresh instances, 500 one-page grows each, alternating: medians of 7 rounds
  const perGrowUs = (grow: (n: number) => number) => {
    const started = performance.now();
    for (let i = 0; i < 500; i++) if (grow(1) < 0) throw new Error('grow failed');
    return ((performance.now() - started) * 1000) / 500;
  };
  const rounds = { plain: [] as number[], accounted: [] as number[] };
  for (let r = 0; r < 7; r++) {
    rounds.plain.push(perGrowUs(plain()));
    rounds.accounted.push(perGrowUs(accounted()));
  }
  return { pagesGrownOneByOne: 500, plainUsPerGrow: round(median(rounds.plain)), accountedUsPerGrow: round(median(rounds.accounted)) };
}

log('preview 1 module vs adapter component');
const preview1 = await preview1VersusAdapter();
log('path operations');
const paths = pathOperations();
log('memory.grow accounting');
const grow = await growAccounting();
process.stdout.write(`${JSON.stringify({ preview1VersusAdapter: preview1, pathOperations: paths, memoryGrow: grow }, null, 2)}\n`);
