import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import type { Preopen } from '../../runtime/pod-runtime.js';
import { runExample } from '../contracts/runtime.contract.js';

const PI_50 = '3.1415926535897932384626433832795028841971693993751';

describe('example components on WasmPodRuntime', () => {
  let runtime: WasmPodRuntime;
  let dataDir: string;
  const volume = (readOnly = false): Preopen[] => [{ hostPath: dataDir, guestPath: '/data', readOnly }];
  beforeAll(async () => {
    runtime = new WasmPodRuntime({ warmWorkers: 1 });
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-volume-'));
  });
  afterAll(async () => {
    await runtime.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('pi prints the first digits of pi', async () => {
    const { exit, stdout } = await runExample(runtime, 'pi', { env: [['DIGITS', '50']] });
    expect(exit.reason).toBe('Completed');
    expect(stdout).toBe(`${PI_50}\n`);
  });

  it('cpuhog completes a bounded run with a checksum', async () => {
    const { exit, stdout } = await runExample(runtime, 'cpuhog', { env: [['ROUNDS', '1']] });
    expect(exit.reason).toBe('Completed');
    expect(stdout).toMatch(/^cpuhog: done, checksum \d+\n$/);
  });

  it('filewriter appends to a file in a preopened volume and reads it back', async () => {
    await writeFile(join(dataDir, 'out.txt'), 'existing\n');
    const { exit, stdout } = await runExample(runtime, 'filewriter', { env: [['MESSAGE', 'from the guest']], preopens: volume() });
    expect(exit.reason).toBe('Completed');
    expect(stdout).toBe('existing\nfrom the guest\n');
    expect(await readFile(join(dataDir, 'out.txt'), 'utf8')).toBe('existing\nfrom the guest\n');
  });

  it('filewriter cannot write into a read-only volume', async () => {
    const { exit, stderr } = await runExample(runtime, 'filewriter', { env: [['OUT', '/data/ro.txt']], preopens: volume(true) });
    expect(exit).toMatchObject({ reason: 'Error', exitCode: 1 });
    expect(stderr).toMatch(/not permitted/i); // EPERM, as wasmtime gives for a read-only preopen
    expect(existsSync(join(dataDir, 'ro.txt'))).toBe(false);
  });

  it('filewriter cannot leave its volume with ..', async () => {
    const { exit, stderr } = await runExample(runtime, 'filewriter', { env: [['OUT', '/data/../escaped.txt']], preopens: volume() });
    expect(exit.reason).toBe('Error');
    expect(stderr).toMatch(/not permitted/i);
    expect(existsSync(join(dataDir, '..', 'escaped.txt'))).toBe(false);
  });

  it('filewriter sees no file system without a volume', async () => {
    const { exit, stderr } = await runExample(runtime, 'filewriter');
    expect(exit.reason).toBe('Error');
    expect(stderr).toMatch(/filewriter: open for append/);
  });
  // http-hello, http-health and tcp-listen: test/runtime/http-handler.test.ts and the runtime contract
});
