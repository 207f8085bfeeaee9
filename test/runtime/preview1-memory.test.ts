// A plain preview 1 C program (clang --target=wasm32-wasi, no component tooling) under memory
// limits: malloc returns NULL at the cap with every block intact, so the guest can react; one that
// gives up or traps ends OOMKilled; all containers together stay within the node's pool.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { startComponent } from './support/run-components.js';

const Mi = 1024 * 1024;
const ALLOC = new Uint8Array(readFileSync(new URL('../guests/c/alloc.wasm', import.meta.url)));
const KIB = /malloc returned NULL after (\d+) KiB in \d+ blocks, 0 corrupted/;

describe('memory limits on a preview 1 module', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1, memoryCeilingBytes: 48 * Mi });
  });
  afterAll(async () => {
    await runtime.close();
  });

  const run = async (env: Array<[string, string]>, memoryBytes: number) => {
    const started = await startComponent(runtime, ALLOC, 'alloc', { env, limits: { memoryBytes } });
    const exit = await started.container.exited;
    return { exit, stdout: started.stdout(), stderr: started.stderr() };
  };

  it('gets NULL from malloc just under the limit, with every block intact, and ends OOMKilled when it then fails', async () => {
    const { exit, stderr } = await run([], 32 * Mi);
    const kib = Number(KIB.exec(stderr)?.[1]);
    expect(kib).toBeGreaterThanOrEqual(28 * 1024);
    expect(kib).toBeLessThan(32 * 1024);
    expect(exit).toMatchObject({ exitCode: 137, reason: 'OOMKilled', message: `memory limit of ${32 * Mi} bytes reached (it exited with code 1 after an allocation was refused)` });
  });

  it('lets a guest that copes with NULL finish normally', async () => {
    const { exit, stdout } = await run([['ON_NULL', 'free'], ['CHUNK_KIB', '64']], 16 * Mi);
    expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(stdout).toMatch(/^alloc: coped: freed \d+ KiB\n$/);
  });

  it('calls a trap after a refused allocation OOMKilled, with the trap in the message', async () => {
    const { exit } = await run([['ON_NULL', 'trap']], 16 * Mi);
    expect(exit.reason).toBe('OOMKilled');
    expect(exit.exitCode).toBe(137);
    expect(exit.message).toMatch(/^memory limit of 16777216 bytes reached \(.*unreachable.*\)$/);
  });

  it('keeps all containers within the node pool: a grow past it fails in the guest that asked', async () => {
    const holder = await startComponent(runtime, ALLOC, 'holder', { env: [['HOLD_MIB', '30']], limits: { memoryBytes: 40 * Mi } });
    await holder.printed('KiB\n');
    expect(holder.stdout()).toContain('alloc: holding 30720 KiB');
    expect(runtime.memoryPool!.usedBytes).toBeGreaterThanOrEqual(30 * Mi);
    const { exit, stderr } = await run([], 40 * Mi);
    const kib = Number(KIB.exec(stderr)?.[1]);
    expect(kib).toBeLessThan(18 * 1024); // 48 MiB for both: what the holder left
    expect(exit).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(exit.message).toMatch(/^the node's memory for containers is used up/);
    await holder.container.stop(0);
    expect(runtime.memoryPool!.usedBytes).toBe(0); // both runs gave their pages back
    const again = await run([['CHUNK_KIB', '512']], 40 * Mi);
    expect(Number(KIB.exec(again.stderr)?.[1])).toBeGreaterThanOrEqual(36 * 1024);
  });
});
