// A handler's output rides its output block (runtime/worker/output-block.ts): one message per
// request instead of one per write, and nothing lost when a request is killed mid-call (trap,
// timeout, stop) — its last line still reaches the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { httpRequest, startComponent } from './support/run-components.js';
import { handlerPrintingComponent } from './support/wat-components.js';

describe('HTTP handler output', () => {
  let runtime: WasmPodRuntime;
  let printing: Uint8Array;
  beforeAll(async () => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    printing = await handlerPrintingComponent();
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('delivers every request\'s line in order, reused or fresh', async () => {
    for (const handlerInstances of ['reuse', 'fresh'] as const) {
      const { container, stdout } = await startComponent(runtime, printing, 'printing', handlerInstances === 'fresh' ? { handlerInstances } : {});
      for (let i = 0; i < 5; i++) expect((await container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(204);
      // the line of a request is in the logs when its response is out
      expect(stdout()).toBe('served\n'.repeat(5));
      await container.stop(0);
    }
  });

  it('keeps the last line of a request that trapped', async () => {
    const { container, stdout } = await startComponent(runtime, printing, 'printing');
    await container.handleHttp!(httpRequest('GET', '/'), 10_000);
    await expect(container.handleHttp!(httpRequest('POST', '/'), 10_000)).rejects.toThrow(/trapped/);
    expect(stdout()).toBe('served\nabout to trap\n');
    await container.stop(0);
  });

  it('keeps the last line of a request killed by its timeout, and of one killed by stop', async () => {
    const { container, stdout, printed } = await startComponent(runtime, printing, 'printing');
    await container.handleHttp!(httpRequest('GET', '/'), 10_000);
    // the kept instance prints as soon as it has the request; 2 s covers a starved worker thread
    await expect(container.handleHttp!(httpRequest('PUT', '/'), 2_000)).rejects.toThrow(/no response within 2000 ms/);
    // the worker is terminated after the request failed: the line follows
    await printed('about to spin');
    expect(stdout()).toBe('served\nabout to spin\n');
    const spinning = container.handleHttp!(httpRequest('PUT', '/'), 30_000);
    spinning.catch(() => undefined);
    // the grace period lets the (fresh) instance start and print before it is killed
    expect((await container.stop(3_000)).reason).toBe('Killed');
    await expect(spinning).rejects.toThrow(/stopped before the handler responded/);
    expect(stdout()).toBe('served\nabout to spin\nabout to spin\n');
  }, 30_000);
});
