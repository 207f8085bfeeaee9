// HTTP handler containers on WasmPodRuntime beyond the contract: the concurrency bound, limits
// applied per request, worker reuse, and the componentize-js example.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONCURRENT_REQUESTS } from '../../runtime/http-handler-container.js';
import { HttpHandlerError } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { httpRequest, startComponent, text } from './support/run-components.js';
import { handlerModesComponent } from './support/wat-components.js';

describe('HTTP handler containers', () => {
  let runtime: WasmPodRuntime;
  let modes: Uint8Array;
  beforeAll(async () => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    modes = await handlerModesComponent();
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('answers concurrent requests, at most one at a time per instance', async () => {
    const { container, printed } = await startComponent(runtime, exampleBytes('http-health'), 'http-health');
    const paths = Array.from({ length: 10 }, (_, i) => `/r${i}`);
    const responses = await Promise.all(paths.map((path) => container.handleHttp!(httpRequest('GET', path), 20_000)));
    expect(responses.map((r) => text(r.body))).toEqual(paths.map((path) => `ok GET ${path}\n`));
    await printed('GET /r9 200');
    await container.stop(0);
  }, 60_000); // the first test pays transpiling http-health and starting workers: 20-30 s under load

  it(`runs at most ${MAX_CONCURRENT_REQUESTS} requests at once; the rest wait, and time out while waiting`, async () => {
    const { container } = await startComponent(runtime, modes, 'modes');
    const spinning = Array.from({ length: MAX_CONCURRENT_REQUESTS }, () => container.handleHttp!(httpRequest('PUT', '/spin'), 30_000));
    spinning.forEach((p) => p.catch(() => undefined));
    await expect(container.handleHttp!(httpRequest('GET', '/'), 500)).rejects.toThrow(/no response within 500 ms \(queued/);
    // stopping with no grace terminates the requests in flight
    const exit = await container.stop(0);
    expect(exit).toMatchObject({ reason: 'Killed', exitCode: 137 });
    expect(exit.message).toMatch(new RegExp(`${MAX_CONCURRENT_REQUESTS} request`));
    for (const request of spinning) await expect(request).rejects.toThrow(/stopped before the handler responded/);
  });

  it('fails a request whose handler sets no response', async () => {
    const { container } = await startComponent(runtime, modes, 'modes');
    await expect(container.handleHttp!(httpRequest('DELETE', '/'), 10_000)).rejects.toThrow(/without setting a response/);
    await container.stop(0);
  });

  it('gives every request the fuel budget, and adds up the fuel consumed', async () => {
    const probe = await startComponent(runtime, exampleBytes('http-health'), 'http-health', { limits: { measureCpu: true } });
    await probe.container.handleHttp!(httpRequest('GET', '/'), 10_000);
    const oneRequest = probe.container.fuelConsumed!()!;
    expect(oneRequest).toBeGreaterThan(0n);
    await probe.container.stop(0);

    const budget = (oneRequest * 3n) / 2n; // one request fits, two would not
    const { container } = await startComponent(runtime, exampleBytes('http-health'), 'http-health', { limits: { fuel: budget } });
    const consumed: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(200);
      consumed.push(container.fuelConsumed!()!);
    }
    // one instance served all three (its instantiation counted once), the fuel of each added up
    expect(consumed[0]).toBeGreaterThanOrEqual(oneRequest);
    expect(consumed[1]).toBeGreaterThan(consumed[0]!);
    expect(consumed[2]).toBeGreaterThan(consumed[1]!);
    expect(consumed[2]).toBeGreaterThan(budget); // more than one budget in all: the budget is per request
    await container.stop(0);

    const spinner = await startComponent(runtime, modes, 'modes', { limits: { fuel: 20_000_000n } });
    await expect(spinner.container.handleHttp!(httpRequest('PUT', '/'), 20_000)).rejects.toThrow(/fuel budget of 20000000 exhausted/);
    expect((await spinner.container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(204);
    await spinner.container.stop(0);
  });

  it('applies the memory limit to every request', async () => {
    const capped = await startComponent(runtime, modes, 'modes', { limits: { memoryBytes: 16 * 1024 * 1024 } });
    await expect(capped.container.handleHttp!(httpRequest('PATCH', '/'), 10_000)).rejects.toThrow(/memory limit of 16777216 bytes reached/);
    expect((await capped.container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(204);
    await capped.container.stop(0);
    const uncapped = await startComponent(runtime, modes, 'modes');
    expect((await uncapped.container.handleHttp!(httpRequest('PATCH', '/'), 10_000)).status).toBe(204);
    await uncapped.container.stop(0);
  });

  it('with fresh instances, gives the worker of a request that returned normally to the next request, not that of a trap', async () => {
    const fresh = new WasmPodRuntime({ warmWorkers: 1 });
    try {
      const { container } = await startComponent(fresh, modes, 'modes', { handlerInstances: 'fresh' });
      await container.handleHttp!(httpRequest('GET', '/'), 10_000);
      const reusedBefore = fresh.workerStats.reused;
      await container.handleHttp!(httpRequest('GET', '/'), 10_000);
      expect(fresh.workerStats.reused).toBe(reusedBefore + 1);
      await expect(container.handleHttp!(httpRequest('POST', '/'), 10_000)).rejects.toBeInstanceOf(HttpHandlerError); // takes it, traps
      await container.handleHttp!(httpRequest('GET', '/'), 10_000);
      expect(fresh.workerStats.reused).toBe(reusedBefore + 2); // the trapped worker was ended
      await container.stop(0);
    } finally {
      await fresh.close();
    }
  });

  const httpHello = new URL('../../wasm-examples/http-hello/http-hello.wasm', import.meta.url);
  // 14 MB and built in ~8 s, so not committed: `just examples` (and .ci/run) builds it
  if (!existsSync(httpHello)) {
    if (process.env['SKIFF_REQUIRE_TOOLS'] === '1') throw new Error('wasm-examples/http-hello/http-hello.wasm is required in CI');
    console.warn('skipping the http-hello tests: build it with `npx tsx wasm-examples/build.ts http-hello`');
  }
  it.runIf(existsSync(httpHello))('serves http-hello (componentize-js, wasi:http@0.2.10), reading a POST body', async () => {
    const { container } = await startComponent(runtime, exampleBytes('http-hello'), 'http-hello');
    const get = await container.handleHttp!(httpRequest('GET', '/hello?x=1'), 20_000);
    expect(get.status).toBe(200);
    expect(text(get.body)).toBe('hello from skiff: GET /hello\n');
    expect(get.headers).toContainEqual(['x-served-by', 'http-hello']);
    const post = await container.handleHttp!(httpRequest('POST', '/echo', 'payload'), 20_000);
    expect(text(post.body)).toBe('hello from skiff: POST /echo body=payload\n');
    expect((await container.stop(1_000)).reason).toBe('Completed');
  }, 90_000); // transpiling 14 MB of componentize-js output: slow on a loaded 2-core machine
});
