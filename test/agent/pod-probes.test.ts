import { describe, expect, it } from 'vitest';
import { setupProbedPod } from './probe-fixture.js';

const setup = (container: Record<string, unknown>, restartPolicy = 'Always') => setupProbedPod(container, { restartPolicy });

const exec = (extra: Record<string, unknown> = {}) => ({ exec: { command: ['hello', 'probe'] }, periodSeconds: 5, ...extra });

describe('container probes', () => {
  it('keeps the pod not Ready until the readiness probe succeeds, and Ready follows it', async () => {
    const t = setup({ readinessProbe: exec({ initialDelaySeconds: 3, failureThreshold: 1 }) });
    await t.flush();
    expect(t.status()?.state.running).toBeDefined();
    expect(t.status()?.ready).toBe(false);
    expect(t.ready()).toBe('False');
    await t.advance(3000);
    expect(t.status()?.ready).toBe(true);
    expect(t.ready()).toBe('True');
    // the probe ran the component with the probe's command as argv, in the container's env
    expect(t.runtime.probes[0]).toMatchObject({ args: ['hello', 'probe'], env: expect.arrayContaining([['WHO', 'probe']]) });
    t.runtime.probeExitCode = 1;
    await t.advance(5000);
    expect(t.status()?.ready).toBe(false);
    expect(t.ready()).toBe('False');
    expect(t.events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Readiness probe failed: command ["hello","probe"] exited with code 1'))).toBe(true);
    expect(t.runtime.containers).toHaveLength(1); // readiness never restarts
  });

  it('kills a container whose liveness probe fails failureThreshold times and restarts it', async () => {
    const t = setup({ livenessProbe: exec({ failureThreshold: 2 }) });
    await t.flush();
    expect(t.status()?.ready).toBe(true);
    t.runtime.probeExitCode = 3;
    await t.advance(4000); // attempts at 0 s and 5 s: only one failure so far
    expect(t.runtime.containers[0]!.stopped).toBe(false);
    await t.advance(2000);
    expect(t.runtime.containers[0]!.stopped).toBe(true);
    expect(t.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Unhealthy', 'Killing']));
    expect(t.events.find((e) => e.reason === 'Killing')!.message).toBe('Container main failed liveness probe, will be restarted');
    await t.flush();
    expect(t.runtime.containers).toHaveLength(2);
    expect(t.status()).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137 } } });
  });

  it('restarts a probe-killed container under OnFailure but not under Never', async () => {
    for (const [policy, runs] of [['OnFailure', 2], ['Never', 1]] as const) {
      const t = setup({ livenessProbe: exec({ failureThreshold: 1 }) }, policy);
      await t.flush();
      t.runtime.probeExitCode = 1;
      await t.advance(1000);
      expect(t.runtime.containers[0]!.stopped).toBe(true);
      await t.flush();
      expect(t.runtime.containers).toHaveLength(runs);
    }
  });

  it('holds liveness and readiness probes until the startup probe succeeds', async () => {
    const probe = (command: string) => ({ exec: { command: [command] }, periodSeconds: 5, failureThreshold: 10 });
    const t = setup({ startupProbe: probe('started'), readinessProbe: probe('ready'), livenessProbe: probe('alive') });
    t.runtime.probeExitCode = 1;
    await t.flush();
    expect(t.status()).toMatchObject({ started: false, ready: false });
    await t.advance(20_000);
    const commands = () => new Set(t.runtime.probes.map((p) => p.args[0]));
    expect(t.runtime.probes.length).toBeGreaterThanOrEqual(3);
    expect(commands()).toEqual(new Set(['started']));
    t.runtime.probeExitCode = 0;
    await t.advance(5000);
    expect(t.status()).toMatchObject({ started: true, ready: true });
    expect(commands()).toEqual(new Set(['started', 'ready', 'alive']));
    expect(t.runtime.containers[0]!.stopped).toBe(false);
  });

  it('kills a container that never passes its startup probe', async () => {
    const t = setup({ startupProbe: exec({ failureThreshold: 2 }) });
    t.runtime.probeExitCode = 1;
    await t.advance(6000);
    expect(t.runtime.containers[0]!.stopped).toBe(true);
    expect(t.events.find((e) => e.reason === 'Killing')!.message).toBe('Container main failed startup probe, will be restarted');
  });

  it('reports grpc probes as not supported and does not gate on them', async () => {
    const t = setup({ readinessProbe: { grpc: { port: 9000 } }, startupProbe: { grpc: { port: 9000 } } });
    await t.flush();
    expect(t.status()).toMatchObject({ ready: true, started: true });
    const unsupported = t.events.filter((e) => e.reason === 'ProbeNotSupported');
    expect(unsupported.map((e) => e.message)).toEqual([
      'Startup probe of container main uses grpc, which skiff does not run (only exec, httpGet and tcpSocket); the probe is ignored',
      'Readiness probe of container main uses grpc, which skiff does not run (only exec, httpGet and tcpSocket); the probe is ignored',
    ]);
    expect(unsupported.map((e) => e.type)).toEqual(['Warning', 'Warning']);
  });

  it('gives exec-probe instances the pod network, each with its own view', async () => {
    const t = setup({ readinessProbe: exec({ failureThreshold: 1 }) });
    await t.flush();
    await t.advance(500);
    const probe = t.runtime.probes[0]!;
    expect(probe.network).toBeDefined();
    expect(probe.network).not.toBe(t.runtime.latest('main').spec.network);
  });
});
