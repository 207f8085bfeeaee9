import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../runtime/component-digest.js';
import type { ContainerLimits, RunningContainer } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { waitFor } from '../mqtt/wait-for.js';

describe('cpu usage of running containers', () => {
  let runtime: WasmPodRuntime;
  const running: RunningContainer[] = [];
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1, fuelPerSecond: 1e9 });
  });
  afterAll(async () => {
    await Promise.all(running.map((c) => c.stop(0)));
    await runtime.close();
  });

  async function startHog(id: string, limits?: ContainerLimits): Promise<RunningContainer> {
    const bytes = exampleBytes('cpuhog');
    const component = await runtime.load(digestOf(bytes), async () => bytes);
    const container = await runtime.start({ id, component, args: ['cpuhog'], env: [], ...(limits ? { limits } : {}) });
    running.push(container);
    return container;
  }

  it('counts the fuel a guest metered for its cpu request burns, growing while it runs', async () => {
    const hog = await startHog('measured', { measureCpu: true });
    const first = await waitFor('some fuel consumed', () => {
      const fuel = hog.fuelConsumed?.();
      return fuel !== undefined && fuel > 0n ? fuel : undefined;
    }, { timeoutMs: 20_000 });
    const later = await waitFor('more fuel consumed', () => {
      const fuel = hog.fuelConsumed?.() ?? 0n;
      return fuel > first ? fuel : undefined;
    }, { timeoutMs: 20_000 });
    expect(later).toBeGreaterThan(first);
    // a C program has at least one 64 KiB page of linear memory
    expect(hog.memoryBytes?.()).toBeGreaterThanOrEqual(65_536);
    const exit = await hog.stop(5_000);
    expect(exit.reason).toBe('Killed'); // metering imposed no quota or budget: it ran until stopped
  });

  it('reports no fuel for a guest without cpu limit, request or budget', async () => {
    const hog = await startHog('unmetered');
    expect(hog.fuelConsumed?.()).toBeUndefined();
    expect(hog.memoryBytes?.()).toBeUndefined();
    await hog.stop(0);
  });
});
