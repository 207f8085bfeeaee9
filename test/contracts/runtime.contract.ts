// Behaviour every PodRuntime must show, run against the example components in wasm-examples/.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../runtime/component-digest.js';
import {
  DigestMismatchError,
  HttpHandlerError,
  InvalidComponentError,
  type ContainerExit,
  type ContainerLimits,
  type PodRuntime,
  type Preopen,
} from '../../runtime/pod-runtime.js';
import { httpRequest, RecordingNetwork, startComponent, text } from '../runtime/support/run-components.js';
import { handlerModesComponent } from '../runtime/support/wat-components.js';

export const exampleBytes = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../wasm-examples/${name}/${name}.wasm`, import.meta.url)));

export interface RunResult {
  exit: ContainerExit;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  args?: string[];
  env?: Array<[string, string]>;
  limits?: ContainerLimits;
  stdin?: Uint8Array;
  preopens?: Preopen[];
}

export async function runExample(runtime: PodRuntime, name: string, options: RunOptions = {}): Promise<RunResult> {
  const bytes = exampleBytes(name);
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const output = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
  const container = await runtime.start({
    id: `${name}/${Math.random()}`,
    component,
    args: options.args ?? [name],
    env: options.env ?? [],
    limits: options.limits,
    stdin: options.stdin,
    preopens: options.preopens,
    onOutput: (stream, chunk) => output[stream].push(chunk),
  });
  const exit = await container.exited;
  const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');
  return { exit, stdout: text(output.stdout), stderr: text(output.stderr) };
}

const startExample = (runtime: PodRuntime, name: string, options: Parameters<typeof startComponent>[3] = {}) =>
  startComponent(runtime, exampleBytes(name), name, options);

export function runtimeContract(name: string, makeRuntime: () => PodRuntime | Promise<PodRuntime>): void {
  describe(`PodRuntime contract: ${name}`, () => {
    let runtime: PodRuntime;
    beforeAll(async () => {
      runtime = await makeRuntime();
    });
    afterAll(async () => {
      await runtime.close();
    });

    it('completes with exit code 0 and captures stdout and stderr separately', async () => {
      const { exit, stdout, stderr } = await runExample(runtime, 'hello');
      expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(stdout).toContain('hello, world!');
      expect(stderr).toBe('hello: a line on stderr\n');
      expect(exit.finishedAt.getTime()).toBeGreaterThanOrEqual(exit.startedAt.getTime());
    });

    it('passes the environment and the arguments to the guest', async () => {
      const { stdout } = await runExample(runtime, 'hello', { env: [['WHO', 'kubelet']], args: ['hello', 'one', 'two words'] });
      expect(stdout).toContain('hello, kubelet!');
      expect(stdout).toContain('argv[0]=hello\nargv[1]=one\nargv[2]=two words\n');
    });

    it('gives the guest its stdin, then end of file', async () => {
      const stdin = new TextEncoder().encode('line one\nline two\n');
      const { exit, stdout } = await runExample(runtime, 'hello', { env: [['ECHO_STDIN', '1']], stdin });
      expect(exit.reason).toBe('Completed');
      expect(stdout.endsWith('line one\nline two\n')).toBe(true);
    });

    it('reports a non-zero exit code as Error with that code', async () => {
      const { exit } = await runExample(runtime, 'hello', { env: [['EXIT_CODE', '3']] });
      expect(exit).toMatchObject({ exitCode: 3, reason: 'Error' });
    });

    it('reports a trap as Error with the trap in the message', async () => {
      const { exit } = await runExample(runtime, 'trap');
      expect(exit.reason).toBe('Error');
      expect(exit.exitCode).not.toBe(0);
      expect(exit.message).toMatch(/unreachable/);
    });

    it('stops a guest that loops forever within the grace period plus a margin', async () => {
      const bytes = exampleBytes('spin');
      const component = await runtime.load(digestOf(bytes), async () => bytes);
      const container = await runtime.start({ id: 'spin', component, args: ['spin'], env: [] });
      const stoppedAt = Date.now();
      const exit = await container.stop(200);
      expect(Date.now() - stoppedAt).toBeLessThan(3_000);
      expect(exit).toMatchObject({ exitCode: 137, reason: 'Killed' });
      await expect(container.exited).resolves.toEqual(exit);
      await expect(container.stop(0)).resolves.toEqual(exit);
    });

    it('stops a guest blocked in a sleep at once, without waiting for the grace period', async () => {
      const bytes = exampleBytes('sleep');
      const component = await runtime.load(digestOf(bytes), async () => bytes);
      let printed!: () => void;
      const sleeping = new Promise<void>((resolve) => (printed = resolve));
      const container = await runtime.start({ id: 'sleep', component, args: ['sleep'], env: [], onOutput: () => printed() });
      await sleeping;
      const stoppedAt = Date.now();
      const exit = await container.stop(30_000);
      expect(exit.reason).toBe('Killed');
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    });

    it('returns the real exit when stopped after the guest ended by itself', async () => {
      const bytes = exampleBytes('hello');
      const component = await runtime.load(digestOf(bytes), async () => bytes);
      const container = await runtime.start({ id: 'done', component, args: ['hello'], env: [] });
      const exit = await container.exited;
      await expect(container.stop(0)).resolves.toEqual(exit);
      expect(exit.reason).toBe('Completed');
    });

    it('ends a guest that allocates past its memory limit as OOMKilled with exit code 137', async () => {
      const { exit } = await runExample(runtime, 'memhog', { limits: { memoryBytes: 16 * 1024 * 1024 } });
      expect(exit).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    });

    it('lets a guest use memory below its limit', async () => {
      const { exit, stdout } = await runExample(runtime, 'memhog', { env: [['LIMIT_MIB', '4']], limits: { memoryBytes: 16 * 1024 * 1024 } });
      expect(exit.reason).toBe('Completed');
      expect(stdout).toContain('holding 4 MiB');
    });

    it('ends a guest that spends its fuel budget as FuelExhausted', async () => {
      const { exit } = await runExample(runtime, 'spin', { limits: { fuel: 50_000_000n } });
      expect(exit.reason).toBe('FuelExhausted');
      expect(exit.exitCode).not.toBe(0);
      expect(exit.message).toMatch(/fuel/);
    });

    it('lets a guest finish within its fuel budget', async () => {
      const { exit } = await runExample(runtime, 'hello', { limits: { fuel: 100_000_000n } });
      expect(exit.reason).toBe('Completed');
    });

    it('rejects bytes that do not match the digest', async () => {
      const bytes = exampleBytes('hello');
      const wrong = digestOf(new Uint8Array([1, 2, 3]));
      await expect(runtime.load(wrong, async () => bytes)).rejects.toBeInstanceOf(DigestMismatchError);
    });

    const hostile: Array<[string, () => Uint8Array]> = [
      ['empty', () => new Uint8Array()],
      ['not wasm', () => new TextEncoder().encode('#!/bin/sh\necho hello\n')],
      ['random', () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)],
      ['a truncated component', () => exampleBytes('hello').subarray(0, 20_000)],
      ['a component with a corrupted body', () => corrupt(exampleBytes('hello'))],
      ['a core module header followed by garbage', () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0x13, 0x37)],
      ['a component header followed by garbage', () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0x07, 0xff, 0xff, 0xff, 0xff, 0x0f)],
    ];
    for (const [label, bytes] of hostile) {
      it(`rejects ${label} with InvalidComponentError`, async () => {
        const b = bytes();
        await expect(runtime.load(digestOf(b), async () => b)).rejects.toBeInstanceOf(InvalidComponentError);
      });
    }

    describe('an HTTP handler (wasi:http/incoming-handler)', () => {
      it('serves requests with status, headers and body, and writes its output, until stopped', async () => {
        const { container, stdout, printed } = await startExample(runtime, 'http-health');
        expect(container.handleHttp).toBeTypeOf('function');
        const ok = await container.handleHttp!(httpRequest('GET', '/healthz?verbose=1'), 10_000);
        expect(ok.status).toBe(200);
        expect(text(ok.body)).toBe('ok GET /healthz?verbose=1\n');
        expect(ok.headers).toContainEqual(['x-served-by', 'http-health']);
        const teapot = await container.handleHttp!(httpRequest('POST', '/status/418', 'ignored'), 10_000);
        expect(teapot.status).toBe(418);
        await printed('POST /status/418 418');
        expect(stdout()).toBe('GET /healthz?verbose=1 200\nPOST /status/418 418\n');
        const exit = await container.stop(5_000);
        expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
        await expect(container.exited).resolves.toEqual(exit);
        await expect(container.handleHttp!(httpRequest('GET', '/'), 10_000)).rejects.toBeInstanceOf(HttpHandlerError);
      });

      it('gives each request the env and volumes of the container', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'skiff-http-health-'));
        try {
          const { container } = await startExample(runtime, 'http-health', {
            env: [['UNHEALTHY_FILE', '/data/unhealthy']],
            preopens: [{ hostPath: dir, guestPath: '/data', readOnly: false }],
          });
          expect((await container.handleHttp!(httpRequest('GET', '/healthz'), 10_000)).status).toBe(200);
          await writeFile(join(dir, 'unhealthy'), '');
          const down = await container.handleHttp!(httpRequest('GET', '/healthz'), 10_000);
          expect(down.status).toBe(503);
          expect(text(down.body)).toBe('unhealthy\n');
          await container.stop(0);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it('lets requests in flight finish when stopped gracefully', async () => {
        const { container } = await startExample(runtime, 'http-health');
        const inFlight = container.handleHttp!(httpRequest('GET', '/slow'), 20_000);
        const exit = await container.stop(20_000);
        expect((await inFlight).status).toBe(200);
        expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
      });

      it('fails a request whose handler traps or outlives its timeout, and keeps serving', async () => {
        const { container } = await startComponent(runtime, await handlerModesComponent(), 'modes');
        const trap = container.handleHttp!(httpRequest('POST', '/'), 10_000);
        await expect(trap).rejects.toBeInstanceOf(HttpHandlerError);
        await expect(trap).rejects.toThrow(/unreachable/);
        expect((await container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(204);
        await expect(container.handleHttp!(httpRequest('PUT', '/spin'), 300)).rejects.toThrow(/no response within 300 ms/);
        expect((await container.handleHttp!(httpRequest('GET', '/'), 10_000)).status).toBe(204);
        expect((await container.stop(0)).reason).toBe('Completed');
      });
    });

    describe('TCP listeners in the pod network (wasi:sockets)', () => {
      it('reports a listener, refuses its port to the pod but not to another pod, and frees it on stop', async () => {
        const pod = new RecordingNetwork();
        const other = new RecordingNetwork();
        const first = await startExample(runtime, 'tcp-listen', { env: [['PORT', '7001']], network: pod });
        await first.printed('listening on 7001');
        await pod.waitFor('listening 7001');
        const second = await startExample(runtime, 'tcp-listen', { env: [['PORT', '7001']], network: pod });
        expect(await second.container.exited).toMatchObject({ reason: 'Error', exitCode: 1 });
        expect(second.stderr()).toMatch(/address-in-use/);
        const elsewhere = await startExample(runtime, 'tcp-listen', { env: [['PORT', '7001']], network: other });
        await other.waitFor('listening 7001');
        // a guest blocked on its listener's pollable ends at once: a grace period longer than the test timeout never runs out
        expect((await first.container.stop(120_000)).reason).toBe('Killed');
        expect(pod.events).toEqual(['listening 7001', 'closed 7001']);
        const again = await startExample(runtime, 'tcp-listen', { env: [['PORT', '7001']], network: pod });
        await again.printed('listening on 7001');
        await Promise.all([again.container.stop(0), elsewhere.container.stop(0)]);
        expect(pod.events).toEqual(['listening 7001', 'closed 7001', 'listening 7001', 'closed 7001']);
        expect(other.events).toEqual(['listening 7001', 'closed 7001']);
      });

      it('denies listening without a pod network', async () => {
        const { container, stderr } = await startExample(runtime, 'tcp-listen');
        expect(await container.exited).toMatchObject({ reason: 'Error', exitCode: 1 });
        expect(stderr()).toMatch(/access-denied/);
      });
    });

    it('still transpiles valid components after rejecting hostile ones', async () => {
      for (const [, bytes] of hostile) {
        const b = bytes();
        await runtime.load(digestOf(b), async () => b).catch(() => undefined);
      }
      // a custom section gives the component a digest no cache has seen
      const fresh = withCustomSection(exampleBytes('trap'), `fresh-${Math.random()}`);
      const component = await runtime.load(digestOf(fresh), async () => fresh);
      const container = await runtime.start({ id: 'fresh', component, args: ['trap'], env: [] });
      expect((await container.exited).message).toMatch(/unreachable/);
    });
  });
}

function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const content = [nameBytes.length, ...nameBytes];
  return Uint8Array.from([...bytes, 0, content.length, ...content]);
}

function corrupt(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  for (let i = 200; i < copy.length; i += 97) copy[i] = copy[i]! ^ 0x5a;
  return copy;
}
