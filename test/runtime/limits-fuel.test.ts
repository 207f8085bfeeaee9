import { parse } from '@bytecodealliance/jco';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureFuelPerSecond } from '../../runtime/limits/fuel-calibration.js';
import { createPeriodBuffer, FuelExhaustedError, FuelMeter } from '../../runtime/limits/fuel-meter.js';
import { FUEL_GLOBAL_EXPORT, INITIAL_FUEL, instrumentModule } from '../../runtime/limits/instrument-module.js';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { runExample, exampleBytes } from '../contracts/runtime.contract.js';
import { digestOf } from '../../runtime/component-digest.js';

const COMPUTE_WAT = `(module
  (memory (export "memory") 1)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "sum") (param $n i64) (result i64) (local $i i64) (local $acc i64)
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (local.get $acc))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "grow") (param $pages i32) (result i32) (memory.grow (local.get $pages))))`;

interface Compute {
  fib(n: number): number;
  sum(n: bigint): bigint;
  spin(): void;
  grow(pages: number): number;
}

const controlThatNeverSleeps = (sleeps: bigint[] = []): GuestControl => ({
  checkStop: () => undefined,
  sleepUntil: (deadlineNs) => void sleeps.push(deadlineNs),
});

async function instantiateMetered() {
  const bytes = instrumentModule(await parse(COMPUTE_WAT), { meterFuel: true, accountMemory: false });
  const instance = new WebAssembly.Instance(await WebAssembly.compile(bytes));
  return { instance, exports: instance.exports as unknown as Compute, fuel: instance.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global };
}

describe('fuel instrumentation', () => {
  it('keeps results and charges the same fuel for the same work every time', async () => {
    const plain = new WebAssembly.Instance(await WebAssembly.compile(await parse(COMPUTE_WAT))).exports as unknown as Compute;
    const { exports, fuel } = await instantiateMetered();
    const charge = (work: () => unknown) => {
      fuel.value = INITIAL_FUEL;
      work();
      return INITIAL_FUEL - (fuel.value as bigint);
    };
    expect(exports.fib(20)).toBe(plain.fib(20));
    expect(exports.sum(1000n)).toBe(plain.sum(1000n));
    const fib20 = charge(() => exports.fib(20));
    expect(charge(() => exports.fib(20))).toBe(fib20);
    expect(charge(() => exports.fib(22))).toBeGreaterThan(fib20);
    expect(charge(() => exports.sum(2000n))).toBeGreaterThan(charge(() => exports.sum(1000n)));
  });

  it('ends an infinite loop once a hard budget is spent', async () => {
    const { instance, exports } = await instantiateMetered();
    const meter = new FuelMeter({ budget: 5_000_000n, periodMs: 100 }, controlThatNeverSleeps());
    meter.attach(instance);
    expect(() => exports.spin()).toThrow(FuelExhaustedError);
    expect(meter.consumed).toBeGreaterThanOrEqual(5_000_000n);
  });

  it('throttles a guest that spends its quota until the next period', async () => {
    const { instance, exports } = await instantiateMetered();
    const sleeps: bigint[] = [];
    const meter = new FuelMeter({ quotaPerPeriod: 1_000_000n, budget: 10_500_000n, periodMs: 60_000 }, controlThatNeverSleeps(sleeps));
    meter.attach(instance);
    expect(() => exports.spin()).toThrow(FuelExhaustedError);
    // ten full periods of quota: one sleep at the end of each
    expect(sleeps).toHaveLength(10);
  });

  it('shares one quota among the instances of a container (concurrent HTTP requests)', async () => {
    const period = createPeriodBuffer();
    const policy = { quotaPerPeriod: 1_000_000n, periodMs: 60_000 };
    const first = await instantiateMetered();
    new FuelMeter({ ...policy, budget: 900_000n }, controlThatNeverSleeps(), undefined, period).attach(first.instance);
    expect(() => first.exports.spin()).toThrow(FuelExhaustedError);
    // the second instance finds 900 000 of the period's quota spent: throttled after 100 000 more
    const second = await instantiateMetered();
    const sleeps: bigint[] = [];
    const meter = new FuelMeter({ ...policy, budget: 1_000_000n }, controlThatNeverSleeps(sleeps), undefined, period);
    meter.attach(second.instance);
    expect(() => second.exports.spin()).toThrow(FuelExhaustedError);
    expect(sleeps).toHaveLength(1);
    // alone (a period of its own), the same budget never reaches the quota
    const alone = await instantiateMetered();
    const aloneSleeps: bigint[] = [];
    new FuelMeter({ ...policy, budget: 1_000_000n }, controlThatNeverSleeps(aloneSleeps)).attach(alone.instance);
    expect(() => alone.exports.spin()).toThrow(FuelExhaustedError);
    expect(aloneSleeps).toHaveLength(0);
  });

  it('measures a positive fuel rate for this machine', () => {
    const fuelPerSecond = measureFuelPerSecond(20);
    expect(Number.isFinite(fuelPerSecond)).toBe(true);
    expect(fuelPerSecond).toBeGreaterThan(1e6);
  });
});

describe('fuel and cpu limits on WasmPodRuntime', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  const durationMs = ({ exit }: Awaited<ReturnType<typeof runExample>>) => exit.finishedAt.getTime() - exit.startedAt.getTime();

  it('throttles a guest to the fuel its cpu limit allows per period', async () => {
    // 1e9 fuel/s declared: 100m allows 1e7 fuel per 100 ms period, so 5e7 fuel take >= 4 periods
    // however fast this machine is (the first period's quota is there at once)
    const throttled = new WasmPodRuntime({ warmWorkers: 0, fuelPerSecond: 1e9, cpuPeriodMs: 100 });
    try {
      const result = await runExample(throttled, 'spin', { limits: { cpuMillis: 100, fuel: 50_000_000n } });
      expect(result.exit.reason).toBe('FuelExhausted');
      expect(durationMs(result)).toBeGreaterThanOrEqual(350);
      expect(durationMs(result)).toBeLessThan(10_000);
    } finally {
      await throttled.close();
    }
  });

  it('stops a metered guest that spins at its next fuel check, well before the grace period', async () => {
    const bytes = exampleBytes('spin');
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    const container = await runtime.start({ id: 'spin', component, args: ['spin'], env: [], limits: { cpuMillis: 1000 } });
    const stoppedAt = Date.now();
    const exit = await container.stop(20_000);
    expect(exit.reason).toBe('Killed');
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
  });

  it('tells an allocation larger than the remaining memory apart as OOMKilled', async () => {
    const { exit } = await runExample(runtime, 'memhog', { env: [['CHUNK_MIB', '64']], limits: { memoryBytes: 16 * 1024 * 1024 } });
    expect(exit).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('does not call an ordinary failure OOMKilled because a memory limit is set', async () => {
    const { exit } = await runExample(runtime, 'hello', { env: [['EXIT_CODE', '1']], limits: { memoryBytes: 16 * 1024 * 1024 } });
    expect(exit).toMatchObject({ reason: 'Error', exitCode: 1 });
  });
});
