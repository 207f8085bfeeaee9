import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createStdinPipeBuffer, StdinPipeSource, StdinPipeWriter } from '../../runtime/stdin-pipe.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { startComponent } from './support/run-components.js';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

describe('stdin pipe', () => {
  it('hands bytes over in order across the ring boundary, then EOF once ended and drained', async () => {
    const buffer = createStdinPipeBuffer();
    const writer = new StdinPipeWriter(buffer);
    const source = new StdinPipeSource(buffer);
    expect(source.read(10)).toEqual(new Uint8Array());
    const big = Buffer.alloc(100_000, 'x');
    big.write('end', big.length - 3);
    expect(writer.write(big)).toBe(true);
    let got = '';
    for (let chunk = source.read(7000); chunk !== undefined && got.length < big.length; chunk = source.read(7000)) {
      got += text(chunk);
      if (chunk.length === 0) await new Promise((resolve) => setTimeout(resolve, 25)); // the writer moves the rest on a timer
    }
    expect(got.length).toBe(big.length);
    expect(got.endsWith('end')).toBe(true);
    writer.write(Buffer.from('tail'));
    writer.end();
    expect(writer.write(Buffer.from('late'))).toBe(false);
    expect(text(source.read(100))).toBe('tail');
    expect(source.read(100)).toBeUndefined();
  });
});

describe('interactive stdin (WasmPodRuntime)', () => {
  const runtime = new WasmPodRuntime({ warmWorkers: 1 });
  afterAll(() => runtime.close());

  it('lets the guest read each line as it is written, and ends at EOF', async () => {
    const started = await startComponent(runtime, readFileSync('wasm-examples/hello/hello.wasm'), 'hello', {
      env: [['ECHO_STDIN', '1']], interactiveStdin: true,
    });
    const stdin = started.container.stdin!;
    expect(stdin).toBeDefined();
    await started.printed('argv[0]=hello');
    stdin.write(Buffer.from('first line\n'));
    await started.printed('first line\n');
    stdin.write(Buffer.from('second line\n'));
    await started.printed('second line\n');
    stdin.end();
    const exit = await started.container.exited;
    expect(exit.exitCode).toBe(0);
    expect(started.stdout()).toBe('hello, world!\nargv[0]=hello\nfirst line\nsecond line\n');
  }, 60_000);

  it('stops a guest blocked reading stdin promptly', async () => {
    const started = await startComponent(runtime, readFileSync('wasm-examples/hello/hello.wasm'), 'hello', {
      env: [['ECHO_STDIN', '1']], interactiveStdin: true,
    });
    await started.printed('argv[0]=hello');
    const startedStop = Date.now();
    const exit = await started.container.stop(60_000);
    // within the grace period: the guest's blocked read saw the stop request (no worker termination after 60 s)
    expect(Date.now() - startedStop).toBeLessThan(30_000);
    expect(exit.message).toBe('stopped by the runtime');
  }, 60_000);
});
