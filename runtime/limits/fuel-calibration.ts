// Measures how much fuel this machine burns per second of one core, on a metered busy loop. The
// agent reports it as allocatable CPU; the runtime turns cpu limits into fuel quotas with it.
import { instrumentModule, FUEL_GLOBAL_EXPORT, INITIAL_FUEL } from './instrument-module.js';

// (func (export "spin") (param $n i32) (result i32) (local $acc i32)
//   (loop (acc = acc * 31 + n) (br_if 0 (local.tee $n (n - 1)))) acc)
const SPIN_MODULE_BYTES = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x08, 0x01, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x00,
  0x0a, 0x1e, 0x01, 0x1c, 0x01, 0x01, 0x7f,
  0x03, 0x40,
  0x20, 0x01, 0x41, 0x1f, 0x6c, 0x20, 0x00, 0x6a, 0x21, 0x01,
  0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00,
  0x0b, 0x20, 0x01, 0x0b,
);

/** Fuel per second of CPU on this machine; runs a metered loop for about `sampleMs`. */
export function measureFuelPerSecond(sampleMs = 100): number {
  const module = new WebAssembly.Module(instrumentModule(SPIN_MODULE_BYTES, { meterFuel: true, accountMemory: false }));
  const instance = new WebAssembly.Instance(module);
  const spin = instance.exports['spin'] as (n: number) => number;
  const fuel = instance.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global;
  let best = 0;
  // take the best of a few samples: the slowest ones measured the scheduler, not the CPU
  for (let iterations = 100_000, spent = 0; spent < sampleMs * 3; ) {
    fuel.value = INITIAL_FUEL;
    const started = performance.now();
    spin(iterations);
    const elapsedMs = performance.now() - started;
    spent += elapsedMs;
    if (elapsedMs < sampleMs / 4) {
      iterations *= 2;
      continue;
    }
    best = Math.max(best, Number(INITIAL_FUEL - (fuel.value as bigint)) / (elapsedMs / 1000));
  }
  return Math.round(best);
}
