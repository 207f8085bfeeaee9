// Runtime benchmark: prints JSON figures (instance start, cold transpile, fuel slowdown, memory
// per idle instance, HTTP handler requests). Run with `npm run bench:runtime` (compiled: real
// worker start costs).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentLoader, type WasmComponent } from '../runtime/component-loader.js';
import { digestOf } from '../runtime/component-digest.js';
import { measureFuelPerSecond } from '../runtime/limits/fuel-calibration.js';
import { transpileComponent } from '../runtime/transpiler/component-transpiler.js';
import { WasmPodRuntime } from '../runtime/wasm-pod-runtime.js';
import { createControlBuffer, type GuestRunRequest } from '../runtime/worker/guest-messages.js';
import { runGuest } from '../runtime/worker/run-guest.js';

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

function examplesDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'wasm-examples'))) return join(dir, 'wasm-examples');
  }
  throw new Error('wasm-examples/ not found');
}
const exampleFile = (name: string) => join(examplesDir(), name, `${name}.wasm`);
const example = (name: string) => new Uint8Array(readFileSync(exampleFile(name)));

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const median = (values: number[]) => percentile(values, 50);

async function coldTranspileMs(name: string, runs: number): Promise<number> {
  const bytes = example(name);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await transpileComponent(bytes);
    times.push(performance.now() - started);
  }
  return round(median(times), 1);
}

interface GuestRun {
  evaluateMs: number;
  instantiateMs: number;
  runMs: number;
}

/** Runs a guest in this thread (no worker): isolates instantiate and run costs. */
async function runInProcess(modules: Record<string, WebAssembly.Module>, component: WasmComponent, env: Array<[string, string]>, metered: boolean): Promise<GuestRun> {
  const request: GuestRunRequest = {
    type: 'run', source: component.transpiled.source, sourceKey: component.digest, modules, args: ['bench'], env, stdin: new Uint8Array(), preopens: [],
    control: createControlBuffer(), fuel: metered ? { periodMs: 100 } : undefined,
  };
  let startedAt = 0;
  const timings = { evaluateMs: 0, instantiateMs: 0 };
  const { outcome } = await runGuest(request, (event) => {
    if (event.type === 'started') (startedAt = performance.now()), Object.assign(timings, event);
  });
  if (outcome.kind !== 'exited' || outcome.exitCode !== 0) throw new Error(`guest failed: ${JSON.stringify(outcome)}`);
  return { ...timings, runMs: performance.now() - startedAt };
}

async function instanceStart(loader: ComponentLoader) {
  const bytes = example('hello');
  const component = await loader.load(digestOf(bytes), async () => bytes);
  const modules = await loader.modules(component, {});
  const runs: GuestRun[] = [];
  for (let i = 0; i < 300; i++) runs.push(await runInProcess(modules, component, [], false));
  const instantiate = runs.slice(20).map((r) => r.instantiateMs);
  const evaluate = runs.slice(20).map((r) => r.evaluateMs);
  return {
    component: 'hello (C, 58 KB)',
    instantiateFromCachedModulesMs: { p50: round(median(instantiate), 3), p99: round(percentile(instantiate, 99), 3) },
    rebuildInstantiateFromCachedJsMs: { p50: round(median(evaluate), 3), p99: round(percentile(evaluate, 99), 3) },
  };
}

async function containerRun(runtime: WasmPodRuntime) {
  const bytes = example('hello');
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    const container = await runtime.start({ id: `hello-${i}`, component, args: ['hello'], env: [] });
    await container.exited;
    times.push(performance.now() - started);
  }
  const steady = times.slice(10);
  return { component: 'hello', warmPoolStartToExitMs: { p50: round(median(steady)), p99: round(percentile(steady, 99)) } };
}

/** Request -> response through a warm worker: a fresh handler instance per request. */
async function handlerRequests(runtime: WasmPodRuntime, name: string, requests: number) {
  const bytes = example(name);
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const container = await runtime.start({ id: `${name}-bench`, component, args: [name], env: [] });
  const request = { method: 'GET', pathWithQuery: '/healthz', scheme: 'http' as const, authority: 'pod:8080', headers: [], body: new Uint8Array() };
  const times: number[] = [];
  for (let i = 0; i < requests + 10; i++) {
    const started = performance.now();
    const response = await container.handleHttp!(request, 30_000);
    if (response.status !== 200) throw new Error(`${name} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  await container.stop(1_000);
  const steady = times.slice(10);
  return { requests: steady.length, sequentialRequestMs: { p50: round(median(steady), 2), p99: round(percentile(steady, 99), 2) } };
}

async function fuelSlowdown(loader: ComponentLoader) {
  const cases: Array<[string, Array<[string, string]>]> = [
    ['cpuhog', [['ROUNDS', '300']]],
    ['pi', [['DIGITS', '4000']]],
  ];
  const results: Record<string, { unmeteredMs: number; meteredMs: number; slowdown: number }> = {};
  for (const [name, env] of cases) {
    const bytes = example(name);
    const component = await loader.load(digestOf(bytes), async () => bytes);
    const plain = await loader.modules(component, {});
    const metered = await loader.modules(component, { metered: true });
    const unmeteredMs: number[] = [];
    const meteredMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      unmeteredMs.push((await runInProcess(plain, component, env, false)).runMs);
      meteredMs.push((await runInProcess(metered, component, env, true)).runMs);
    }
    results[name] = { unmeteredMs: round(median(unmeteredMs), 1), meteredMs: round(median(meteredMs), 1), slowdown: round(median(meteredMs) / median(unmeteredMs)) };
    log(`fuel ${name}: ${JSON.stringify(results[name])}`);
  }
  return results;
}

async function idleMemory(instances: number) {
  const runtime = new WasmPodRuntime({ warmWorkers: 0 });
  const bytes = example('sleep');
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  // warm up once so code caches and the compiled modules are not counted per instance
  const first = await runtime.start({ id: 'warmup', component, args: ['sleep'], env: [['SECONDS', '0']] });
  await first.exited;
  const before = process.memoryUsage().rss;
  const containers = [];
  for (let i = 0; i < instances; i++) {
    let printed!: () => void;
    const sleeping = new Promise<void>((resolve) => (printed = resolve));
    containers.push(await runtime.start({ id: `sleep-${i}`, component, args: ['sleep'], env: [], onOutput: () => printed() }));
    await sleeping;
  }
  const perInstance = (process.memoryUsage().rss - before) / instances;
  await runtime.close();
  return {
    idleInstances: instances,
    memoryPerIdleInstanceBytes: Math.round(perInstance),
    idleInstancesPer24GiB: Math.floor((24 * 2 ** 30) / perInstance),
  };
}

async function main(): Promise<void> {
  const loader = new ComponentLoader();
  log('fuel per second');
  const fuelPerSecond = measureFuelPerSecond();
  log('cold transpile');
  const coldTranspile = {
    helloC58KBMs: await coldTranspileMs('hello', 5),
    trapWat1KBMs: await coldTranspileMs('trap', 5),
    ...(existsSync(exampleFile('http-hello')) ? { httpHelloJs14MBMs: await coldTranspileMs('http-hello', 2) } : {}),
  };
  log('instance start');
  const start = await instanceStart(loader);
  log('container runs');
  const runtime = new WasmPodRuntime({ warmWorkers: 2 });
  const container = await containerRun(runtime);
  log('http handler requests');
  const httpHandler = {
    httpHealthC65KB: await handlerRequests(runtime, 'http-health', 200),
    ...(existsSync(exampleFile('http-hello')) ? { httpHelloJs14MB: await handlerRequests(runtime, 'http-hello', 50) } : {}),
  };
  await runtime.close();
  log('fuel slowdown');
  const slowdown = await fuelSlowdown(loader);
  log('idle memory');
  const memory = await idleMemory(Number(process.env['BENCH_IDLE_INSTANCES'] ?? 50));
  await loader.close();
  const report = { node: process.version, cpus: (await import('node:os')).cpus().length, fuelPerSecond, coldTranspile, instanceStart: start, container, httpHandler, fuelSlowdown: slowdown, memory };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
