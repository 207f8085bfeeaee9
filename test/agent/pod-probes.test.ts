import { describe, expect, it } from 'vitest';
import { ComponentFetcher } from '../../agent/component-fetcher.js';
import { PodManager, type PodReporter } from '../../agent/pods/pod-manager.js';
import type { DesiredStateMessage, EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { ContainerStatus } from '../../api/types/pod.js';
import type { ContainerExit, ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

const DIGEST = `sha256:${'2'.repeat(64)}`;

/** Containers run until stopped; exec probe instances exit at once with `probeExitCode`. */
class ProbeRuntime implements PodRuntime {
  probeExitCode = 0;
  readonly containers: Array<{ spec: ContainerSpec; stopped: boolean }> = [];
  readonly probes: ContainerSpec[] = [];
  async load(digest: string): Promise<LoadedComponent> {
    return { digest };
  }
  async start(spec: ContainerSpec): Promise<RunningContainer> {
    const startedAt = new Date();
    if (spec.id.includes('/probe-')) {
      this.probes.push(spec);
      const exit: ContainerExit = { exitCode: this.probeExitCode, reason: this.probeExitCode ? 'Error' : 'Completed', startedAt, finishedAt: startedAt };
      return { id: spec.id, startedAt, exited: Promise.resolve(exit), stop: async () => exit };
    }
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    const entry = { spec, stopped: false };
    this.containers.push(entry);
    return {
      id: spec.id, startedAt, exited,
      stop: async () => { entry.stopped = true; settle({ exitCode: 137, reason: 'Killed', startedAt, finishedAt: new Date() }); return exited; },
    };
  }
  async close(): Promise<void> {}
}

class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<Uint8Array> { return new Uint8Array([0, 97, 115, 109]); }
}

function setup(container: Record<string, unknown>, restartPolicy = 'Always') {
  const clock = new FakeClock();
  const runtime = new ProbeRuntime();
  const statuses: Array<Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = [];
  const events: Array<Pick<EventMessage, 'reason' | 'message' | 'type'>> = [];
  const reporter: PodReporter = { podStatus: (m) => statuses.push(m), event: (m) => events.push(m) };
  const manager = new PodManager({ runtime, fetcher: new FakeFetcher(), clock, nodeName: 'n1', hostIP: '127.0.0.1', reporter });
  const desired: DesiredStateMessage = {
    v: 1, node: 'n1', generation: 1, cpEpoch: 'e', ts: 0,
    pods: [{
      pod: {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probed', namespace: 'default', uid: 'u1' },
        spec: { restartPolicy, containers: [{ name: 'main', image: 'examples/hello:latest', env: [{ name: 'WHO', value: 'probe' }], ...container }] },
      },
      podIP: '10.42.1.3',
      images: { 'examples/hello:latest': { digest: DIGEST, url: 'https://cp/registry' } },
    }],
  } as DesiredStateMessage;
  const last = () => statuses.at(-1)!;
  const status = () => last().status.containerStatuses?.[0] as ContainerStatus | undefined;
  const ready = () => last().status.conditions?.find((c) => c.type === 'Ready')?.status;
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const advance = async (ms: number) => {
    for (let step = 0; step < ms; step += 500) {
      clock.advance(Math.min(500, ms - step));
      await flush();
    }
  };
  manager.apply(desired);
  return { clock, runtime, events, status, ready, flush, advance };
}

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

  it('reports httpGet and tcpSocket probes as not supported and does not gate on them', async () => {
    const t = setup({ readinessProbe: { httpGet: { path: '/healthz', port: 8080 } }, livenessProbe: { tcpSocket: { port: 8080 } } });
    await t.flush();
    expect(t.status()?.ready).toBe(true);
    const unsupported = t.events.filter((e) => e.reason === 'ProbeNotSupported').map((e) => e.message);
    expect(unsupported).toEqual([
      'Liveness probe of container main uses tcpSocket, which skiff does not run yet (only exec); the probe is ignored',
      'Readiness probe of container main uses httpGet, which skiff does not run yet (only exec); the probe is ignored',
    ]);
    expect(t.events.filter((e) => e.reason === 'ProbeNotSupported').map((e) => e.type)).toEqual(['Warning', 'Warning']);
  });
});
