// Worker side of fuel: hands each metered core instance fuel in slices, charges what it used to a
// hard budget (-> FuelExhaustedError) and to a per-period CPU quota (-> sleep until the next
// period, like CFS throttling). Also the point where a spinning metered guest sees a stop request,
// and where its usage (fuel, linear memory) is published to the runtime for metrics.
import type { GuestControl } from '../wasi/guest-control.js';
import { monotonicNowNs } from '../wasi/guest-control.js';
import { FUEL_GLOBAL_EXPORT, FUEL_HOOK_TABLE_EXPORT } from './instrument-module.js';
import { USAGE_FUEL_INDEX, USAGE_MEMORY_BYTES_INDEX } from './usage-block.js';

export class FuelExhaustedError extends Error {
  override readonly name = 'FuelExhaustedError';
}

export interface FuelPolicy {
  /** Hard budget for the container's whole run (an HTTP handler: for each request, see startRequest). */
  budget?: bigint;
  /** CPU quota: fuel per period. */
  quotaPerPeriod?: bigint;
  periodMs: number;
}

// ~1 ms of guest work per host call at ~1e9 fuel/s: negligible overhead, fine-grained throttling
const SLICE = 1_000_000n;

// (module (import "host" "refill" (func)) (export "refill" (func 0))): turns a JS function into
// a wasm function that can be stored in a table
const HOOK_MODULE_BYTES = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x02, 0x0f, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x06, 0x72, 0x65, 0x66, 0x69, 0x6c, 0x6c, 0x00, 0x00,
  0x07, 0x0a, 0x01, 0x06, 0x72, 0x65, 0x66, 0x69, 0x6c, 0x6c, 0x00, 0x00,
);
let hookModule: WebAssembly.Module | undefined;

// The CPU period's state: [start (monotonic ns), fuel used in it]. An HTTP handler's concurrent
// requests share one block (SharedArrayBuffer), so the container's quota bounds them all together.
const PERIOD_START_INDEX = 0;
const PERIOD_USED_INDEX = 1;

export function createPeriodBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
}

export class FuelMeter {
  #consumed = 0n;
  /** What was consumed before the current request of a reused handler instance (its budget starts here). */
  #budgetBase = 0n;
  readonly #period: BigInt64Array;
  readonly #periodNs: bigint;
  /** Per attached instance: takes the fuel used from its current slice so far. */
  readonly #unsettled: Array<() => bigint> = [];
  /** Linear memories of the attached instances (an imported memory is the same object: counted once). */
  readonly #memories = new Set<WebAssembly.Memory>();

  constructor(
    private readonly policy: FuelPolicy,
    private readonly control: GuestControl,
    /** Shared usage block (usage-block.ts) the runtime reads; absent in unit tests. */
    private readonly usage?: BigInt64Array,
    /** CPU period state shared with other instances of the container (createPeriodBuffer). */
    period?: SharedArrayBuffer,
  ) {
    this.#periodNs = BigInt(Math.round(policy.periodMs * 1e6));
    this.#period = new BigInt64Array(period ?? new ArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
    // a fresh block (start 0) starts its first period now
    Atomics.compareExchange(this.#period, PERIOD_START_INDEX, 0n, monotonicNowNs());
  }

  /** Fuel charged so far (slices in use not yet counted). */
  get consumed(): bigint {
    return this.#consumed;
  }

  /**
   * A reused handler instance starts serving another request: the budget applies to what it
   * consumes from now on (consumed keeps counting the instance's whole life).
   */
  startRequest(): void {
    this.#budgetBase = this.#consumed;
  }

  /** Connects a freshly instantiated core instance, if it was metered. */
  attach(instance: WebAssembly.Instance): void {
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) this.#memories.add(value);
    }
    this.#publishUsage();
    const fuel = instance.exports[FUEL_GLOBAL_EXPORT];
    const table = instance.exports[FUEL_HOOK_TABLE_EXPORT];
    if (!(fuel instanceof WebAssembly.Global) || !(table instanceof WebAssembly.Table)) return;
    let granted = 0n;
    const refill = () => {
      this.#charge(granted - (fuel.value as bigint));
      granted = this.#nextSlice();
      fuel.value = granted;
    };
    this.#unsettled.push(() => {
      const used = granted - (fuel.value as bigint);
      granted = fuel.value as bigint;
      return used;
    });
    hookModule ??= new WebAssembly.Module(HOOK_MODULE_BYTES);
    table.set(0, new WebAssembly.Instance(hookModule, { host: { refill } }).exports['refill']);
    granted = this.#nextSlice();
    fuel.value = granted;
  }

  /**
   * The guest is done: counts the fuel used from the slices in use (a short run may never need a
   * refill) and publishes it. No limit is enforced here.
   */
  settle(): void {
    let used = 0n;
    for (const take of this.#unsettled) used += take();
    if (used <= 0n) return;
    this.#consumed += used;
    Atomics.add(this.#period, PERIOD_USED_INDEX, used);
    this.#publishUsage();
  }

  #charge(used: bigint): void {
    this.#consumed += used;
    const periodUsed = Atomics.add(this.#period, PERIOD_USED_INDEX, used) + used;
    this.#publishUsage();
    this.control.checkStop();
    const { budget, quotaPerPeriod } = this.policy;
    if (budget !== undefined && this.#consumed - this.#budgetBase >= budget) {
      throw new FuelExhaustedError(`fuel budget of ${budget} exhausted`);
    }
    if (quotaPerPeriod === undefined) return;
    const periodStart = Atomics.load(this.#period, PERIOD_START_INDEX);
    const now = monotonicNowNs();
    if (now >= periodStart + this.#periodNs) return this.#startPeriod(periodStart, now);
    if (periodUsed >= quotaPerPeriod) {
      this.control.sleepUntil(periodStart + this.#periodNs); // throttled until the next period
      this.#startPeriod(periodStart, monotonicNowNs());
    }
  }

  // Every ~1 ms of guest work: two atomic stores, and reading sizes the engine already knows.
  #publishUsage(): void {
    if (!this.usage) return;
    let memoryBytes = 0;
    for (const memory of this.#memories) memoryBytes += memory.buffer.byteLength;
    Atomics.store(this.usage, USAGE_FUEL_INDEX, this.#consumed);
    Atomics.store(this.usage, USAGE_MEMORY_BYTES_INDEX, BigInt(memoryBytes));
  }

  /** Starts a new period, unless another instance sharing the block already did. */
  #startPeriod(seenStartNs: bigint, nowNs: bigint): void {
    if (Atomics.compareExchange(this.#period, PERIOD_START_INDEX, seenStartNs, nowNs) === seenStartNs) {
      Atomics.store(this.#period, PERIOD_USED_INDEX, 0n);
    }
  }

  #nextSlice(): bigint {
    let slice = SLICE;
    const { budget, quotaPerPeriod } = this.policy;
    const spent = this.#consumed - this.#budgetBase;
    if (budget !== undefined && budget - spent < slice) slice = budget - spent;
    const periodUsed = Atomics.load(this.#period, PERIOD_USED_INDEX);
    if (quotaPerPeriod !== undefined && quotaPerPeriod - periodUsed < slice) slice = quotaPerPeriod - periodUsed;
    return slice > 0n ? slice : 1n;
  }
}
