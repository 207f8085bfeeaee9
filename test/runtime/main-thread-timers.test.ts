import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../runtime/component-digest.js';
import type { RunningContainer } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';

const GUESTS = 10;
const TICK_MS = 50;
const TICKS = 40;

/** Gaps between the ticks of a `tickMs` interval, over `ticks` ticks. */
function measureTickGaps(tickMs: number, ticks: number): Promise<number[]> {
  return new Promise((resolve) => {
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      if (gaps.length === ticks) {
        clearInterval(timer);
        resolve(gaps);
      }
    }, tickMs);
  });
}

describe('isolation of the main thread from guests', () => {
  let runtime: WasmPodRuntime;
  const containers: RunningContainer[] = [];
  beforeAll(() => {
    // no warm pool: refilling it would start workers (slow under tsx) while the timer is measured
    runtime = new WasmPodRuntime({ warmWorkers: 0 });
  });
  afterAll(async () => {
    await Promise.all(containers.map((c) => c.stop(0)));
    await runtime.close();
  });

  it(`keeps its timers on time while ${GUESTS} guests spin at 100 % CPU`, async () => {
    const bytes = exampleBytes('spin');
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    for (let i = 0; i < GUESTS; i++) {
      containers.push(await runtime.start({ id: `spin-${i}`, component, args: ['spin'], env: [] }));
    }
    const gaps = await measureTickGaps(TICK_MS, TICKS);
    // Guests on this thread would stop the timer outright (the ticks would never come). In their
    // own (niced) threads they cost it scheduler noise only (max gap ~52 ms when this file runs
    // alone). Other test files share the 2 cores and delay ticks by themselves, so the bounds only
    // tell "keeps ticking" from "stopped"; the precise figures are bench/runtime.ts's business.
    expect(Math.max(...gaps)).toBeLessThan(1000);
    expect(gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length).toBeLessThan(TICK_MS * 2);
    const stops = await Promise.all(containers.map((c) => c.stop(100)));
    expect(stops.every((exit) => exit.reason === 'Killed')).toBe(true);
  }, 60_000);
});
