// HTTP handler instance reuse (decision 053), with a handler that counts the requests its instance
// served: reuse keeps the count, anything but a response (trap, limit, timeout) ends the instance
// and the next request is answered by a fresh one (count 1), nothing of a failed request reaches
// another's response; limits, stop, concurrency, retirement; a seeded fuzz of request sequences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpHandlerContainer, MAX_CONCURRENT_REQUESTS } from '../../runtime/http-handler-container.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import type { RunningContainer } from '../../runtime/pod-runtime.js';
import { seededRandom } from '../support/seeded-random.js';
import { httpRequest, startComponent } from './support/run-components.js';
import { handlerCounterComponent } from './support/wat-components.js';

const status = async (container: RunningContainer, method: string, timeoutMs = 10_000) => (await container.handleHttp!(httpRequest(method, '/'), timeoutMs)).status;
const stats = (container: RunningContainer) => (container as HttpHandlerContainer).instanceStats;

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('HTTP handler instance reuse', () => {
  let runtime: WasmPodRuntime;
  let counter: Uint8Array;
  beforeAll(async () => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    counter = await handlerCounterComponent();
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('serves request after request from one instance: its memory survives', async () => {
    const { container } = await startComponent(runtime, counter, 'counter');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await status(container, 'GET'));
    expect(statuses).toEqual([201, 202, 203, 204, 205]);
    expect(stats(container)).toMatchObject({ instancesStarted: 1, requests: 5, reusedRequests: 4 });
    expect((await container.stop(1_000)).reason).toBe('Completed');
  });

  it('starts a fresh instance per request with handlerInstances: fresh', async () => {
    const { container } = await startComponent(runtime, counter, 'counter', { handlerInstances: 'fresh' });
    for (let i = 0; i < 3; i++) expect(await status(container, 'GET')).toBe(201);
    expect(stats(container).instancesStarted).toBe(3);
    await container.stop(0);
  });

  it('ends the instance of a request that trapped: the next request gets a fresh one', async () => {
    const { container } = await startComponent(runtime, counter, 'counter');
    expect(await status(container, 'GET')).toBe(201);
    expect(await status(container, 'GET')).toBe(202);
    await expect(status(container, 'POST')).rejects.toThrow(/the handler trapped: .*unreachable/);
    expect(await status(container, 'GET')).toBe(201);
    expect(stats(container).instancesStarted).toBe(2);
    await container.stop(0);
  });

  it('traps an instance that uses the request handle of an earlier call, and lets it go', async () => {
    const { container } = await startComponent(runtime, counter, 'counter');
    expect(await status(container, 'OPTIONS')).toBe(201); // keeps its request handle
    await expect(status(container, 'OPTIONS')).rejects.toThrow(/incoming-request of an earlier handler call was used/);
    expect(await status(container, 'GET')).toBe(201);
    await container.stop(0);
  });

  it('applies the memory limit to an instance for its whole life', async () => {
    const { container } = await startComponent(runtime, counter, 'counter', { limits: { memoryBytes: 8 * 65536 } });
    const grown: number[] = [];
    let failure: Error | undefined;
    for (let i = 0; i < 10 && !failure; i++) {
      await status(container, 'PATCH').then((s) => grown.push(s), (error: Error) => (failure = error));
    }
    // one page more per request: the instance reaches its limit after a few, and is ended
    expect(failure?.message).toMatch(/memory limit of 524288 bytes reached/);
    expect(grown.length).toBeGreaterThan(0);
    expect(grown.length).toBeLessThan(8);
    expect(grown).toEqual(grown.map((_, i) => 201 + i));
    expect(await status(container, 'PATCH')).toBe(201); // a fresh instance, with its initial memory
    await container.stop(0);
  });

  it('gives every request of an instance the fuel budget, and ends an instance that exhausts it', async () => {
    const probe = await startComponent(runtime, counter, 'counter', { limits: { measureCpu: true } });
    await status(probe.container, 'GET');
    const first = probe.container.fuelConsumed!()!;
    await probe.container.stop(0);
    const budget = first * 2n;
    const { container } = await startComponent(runtime, counter, 'counter', { limits: { fuel: budget } });
    for (let i = 1; i <= 8; i++) expect(await status(container, 'GET')).toBe(200 + i);
    expect(container.fuelConsumed!()).toBeGreaterThan(budget); // the budget is per request, not per instance
    await expect(status(container, 'PUT')).rejects.toThrow(new RegExp(`fuel budget of ${budget} exhausted`));
    expect(await status(container, 'GET')).toBe(201);
    await container.stop(0);
  });

  it('ends the instance of a request that timed out', async () => {
    const { container } = await startComponent(runtime, counter, 'counter');
    expect(await status(container, 'GET')).toBe(201);
    await expect(status(container, 'PUT', 300)).rejects.toThrow(/no response within 300 ms/);
    expect(await status(container, 'GET')).toBe(201);
    await container.stop(0);
  });

  it('runs at most the concurrency bound of instances, each serving one request at a time', async () => {
    const { container } = await startComponent(runtime, counter, 'counter');
    const statuses = await Promise.all(Array.from({ length: 12 }, () => status(container, 'GET')));
    const { instancesStarted } = stats(container);
    expect(instancesStarted).toBeLessThanOrEqual(MAX_CONCURRENT_REQUESTS);
    // every instance counted its own requests from 1, without gaps or repeats
    expect(statuses.filter((s) => s === 201)).toHaveLength(instancesStarted);
    const sorted = [...statuses].sort();
    for (let n = 2; n <= 12; n++) expect(sorted.filter((s) => s === 200 + n).length).toBeLessThanOrEqual(sorted.filter((s) => s === 199 + n).length);
    await container.stop(0);
  });

  it('stops: idle instances retired (Completed), requests in flight terminated (Killed)', async () => {
    const idle = await startComponent(runtime, counter, 'counter');
    await status(idle.container, 'GET');
    expect((idle.container as HttpHandlerContainer).idleInstances).toBe(1);
    expect((await idle.container.stop(1_000)).reason).toBe('Completed');
    expect((idle.container as HttpHandlerContainer).idleInstances).toBe(0);

    const busy = await startComponent(runtime, counter, 'counter');
    await status(busy.container, 'GET');
    const spinning = status(busy.container, 'PUT', 30_000);
    spinning.catch(() => undefined);
    await until(() => stats(busy.container).requests === 2);
    const exit = await busy.container.stop(0);
    expect(exit).toMatchObject({ reason: 'Killed', exitCode: 137 });
    await expect(spinning).rejects.toThrow(/stopped before the handler responded/);
    await expect(status(busy.container, 'GET')).rejects.toThrow(/is stopped/);
  });

  it('retires an instance after its maximum of requests, and after it was idle too long', async () => {
    const bounded = new WasmPodRuntime({ warmWorkers: 1, handlerReuse: { maxRequests: 3, idleMs: 200 } });
    try {
      const { container } = await startComponent(bounded, counter, 'counter');
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push(await status(container, 'GET'));
      expect(statuses).toEqual([201, 202, 203, 201, 202, 203, 201]);
      expect((container as HttpHandlerContainer).idleInstances).toBe(1);
      await until(() => (container as HttpHandlerContainer).idleInstances === 0);
      expect(await status(container, 'GET')).toBe(201);
      expect(bounded.workerStats.reused).toBeGreaterThan(0); // retired instances gave their worker back
      await container.stop(0);
    } finally {
      await bounded.close();
    }
  });

  it('fuzz: sequences mixing responses, traps, stale handles and timeouts answer as a model says (seeded)', async () => {
    for (const seed of [11, 53, 2026]) {
      const next = seededRandom(seed);
      const { container } = await startComponent(runtime, counter, 'counter', { limits: { memoryBytes: 6 * 65536 } });
      // the model: the live instance's count and pages grown, and whether it kept a request handle
      let model = { count: 0, pages: 0, kept: false };
      const fresh = () => ({ count: 0, pages: 0, kept: false });
      for (let i = 0; i < 40; i++) {
        const pick = next();
        const method = pick < 0.45 ? 'GET' : pick < 0.6 ? 'POST' : pick < 0.75 ? 'OPTIONS' : pick < 0.95 ? 'PATCH' : 'PUT';
        const outcome = await status(container, method, method === 'PUT' ? 200 : 10_000).then((s) => s, (error: Error) => error.message);
        const where = `seed ${seed}, request ${i} (${method})`;
        model.count++;
        if (method === 'POST') {
          expect(outcome, where).toMatch(/trapped/);
          model = fresh();
        } else if (method === 'PUT') {
          expect(outcome, where).toMatch(/no response within 200 ms/);
          model = fresh();
        } else if (method === 'OPTIONS' && model.kept) {
          expect(outcome, where).toMatch(/earlier handler call/);
          model = fresh();
        } else if (method === 'PATCH' && typeof outcome === 'string') {
          // one page more per PATCH: refused once the instance holds its limit
          expect(outcome, where).toMatch(/memory limit of 393216 bytes reached/);
          expect(model.pages, where).toBeGreaterThan(0);
          model = fresh();
        } else {
          expect(outcome, where).toBe(200 + (model.count % 100));
          if (method === 'OPTIONS') model.kept = true;
          if (method === 'PATCH') model.pages++;
        }
      }
      expect(stats(container).instancesStarted).toBeGreaterThan(1);
      expect((await container.stop(1_000)).reason).toBe('Completed');
    }
  }, 120_000);
});
