import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { digestOf } from '../../runtime/component-digest.js';
import { exampleBytes, runExample } from '../contracts/runtime.contract.js';

describe('worker reuse', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('gives the worker of a guest that exited normally to the next guest, with nothing carried over', async () => {
    const first = await runExample(runtime, 'hello', { env: [['WHO', 'first-guest']], args: ['hello', 'a'] });
    expect(first.stdout).toContain('hello, first-guest!');
    const before = runtime.workerStats;
    const second = await runExample(runtime, 'hello', { args: ['hello'] });
    expect(second.exit.reason).toBe('Completed');
    expect(second.stdout).toContain('hello, world!');
    expect(second.stdout).not.toContain('first-guest');
    expect(second.stdout).not.toContain('argv[1]');
    expect(runtime.workerStats.reused).toBe(before.reused + 1);
  });

  it('never reuses the worker of a guest that trapped or was stopped', async () => {
    // a fresh runtime: a returned worker would be the first one handed out, and count as reused
    const fresh = new WasmPodRuntime({ warmWorkers: 1 });
    try {
      expect((await runExample(fresh, 'trap')).exit.reason).toBe('Error');
      expect((await runExample(fresh, 'hello')).exit.reason).toBe('Completed');
      expect(fresh.workerStats.reused).toBe(0);
      expect((await runExample(fresh, 'hello')).exit.reason).toBe('Completed');
      expect(fresh.workerStats.reused).toBe(1); // the worker of the hello that exited normally
      // the spinner takes the worker that hello returned, and is stopped: that worker must be ended
      const spin = await startSpin(fresh);
      expect(fresh.workerStats.reused).toBe(2);
      expect((await spin.stop(0)).reason).toBe('Killed');
      expect((await runExample(fresh, 'hello')).exit.reason).toBe('Completed');
      expect(fresh.workerStats.reused).toBe(2); // a fresh worker, not the spinner's
      expect((await runExample(fresh, 'hello')).exit.reason).toBe('Completed');
      expect(fresh.workerStats.reused).toBe(3);
    } finally {
      await fresh.close();
    }
  });
});

async function startSpin(runtime: WasmPodRuntime) {
  const bytes = exampleBytes('spin');
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  return runtime.start({ id: 'spin', component, args: ['spin'], env: [] });
}
