// The WASI conformance guests (C, Rust, AssemblyScript preview 1 programs) on WasmPodRuntime: every
// check passes (errno values as wasmtime gives them on Linux) and the guest exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../runtime/component-digest.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { CONFORMANCE_ARGS, CONFORMANCE_ENV, CONFORMANCE_GUESTS, CONFORMANCE_STDIN, conformanceBytes, conformanceDirs, failedChecks } from './support/conformance-guests.js';

describe('WASI conformance guests', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it.each(CONFORMANCE_GUESTS)('$language: every check passes, exit code 0', async ({ path }) => {
    const dirs = await conformanceDirs();
    try {
      const bytes = conformanceBytes(path);
      const component = await runtime.load(digestOf(bytes), async () => bytes);
      const output = { stdout: '', stderr: '' };
      const container = await runtime.start({
        id: `conformance/${Math.random()}`, component, args: ['wasi-conformance', ...CONFORMANCE_ARGS], env: CONFORMANCE_ENV,
        stdin: new TextEncoder().encode(CONFORMANCE_STDIN), preopens: dirs.preopens,
        onOutput: (stream, chunk) => (output[stream] += Buffer.from(chunk).toString('utf8')),
      });
      const exit = await container.exited;
      expect(failedChecks(output.stdout)).toEqual([]);
      expect(output.stdout).toMatch(/^# \d+ checks, 0 failed$/m);
      expect(output.stderr).toContain('stderr works\n');
      expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
    } finally {
      await dirs.remove();
    }
  });
});
