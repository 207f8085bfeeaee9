import { describe, expect, it } from 'vitest';
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { PodManager, type PodReporter } from '../../agent/pods/pod-manager.js';
import { NodeNetwork } from '../../agent/network/node-network.js';
import type { DesiredStateMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { ContainerStatus } from '../../api/types/pod.js';
import type { ContainerExit, ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

const DIGEST = `sha256:${'1'.repeat(64)}`;

/** A runtime whose containers end when the test says so. */
class ScriptedRuntime implements PodRuntime {
  readonly started: Array<{ spec: ContainerSpec; exit: (code: number, reason?: ContainerExit['reason']) => void; stopped: boolean }> = [];
  async load(digest: string): Promise<LoadedComponent> {
    return { digest };
  }
  async start(spec: ContainerSpec): Promise<RunningContainer> {
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    const startedAt = new Date();
    const entry = {
      spec, stopped: false,
      exit: (exitCode: number, reason: ContainerExit['reason'] = exitCode === 0 ? 'Completed' : 'Error') =>
        settle({ exitCode, reason, startedAt, finishedAt: new Date() }),
    };
    this.started.push(entry);
    spec.onOutput?.('stdout', new TextEncoder().encode(`run ${this.started.length}\n`));
    return {
      id: spec.id, startedAt, exited,
      stop: async () => { entry.stopped = true; entry.exit(137, 'Killed'); return exited; },
    };
  }
  async close(): Promise<void> {}
}

class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: true }; }
}

function setup() {
  const clock = new FakeClock();
  const runtime = new ScriptedRuntime();
  const statuses: Array<Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = [];
  const events: string[] = [];
  const reporter: PodReporter = { podStatus: (m) => statuses.push(m), event: (m) => events.push(m.reason) };
  const manager = new PodManager({ runtime, fetcher: new FakeFetcher(), clock, nodeName: 'n1', hostIP: '127.0.0.1', reporter });
  const last = () => statuses.at(-1)!;
  const container = (): ContainerStatus | undefined => last().status.containerStatuses?.[0] as ContainerStatus | undefined;
  return { clock, runtime, statuses, events, manager, last, container };
}

function desired(generation: number, pods: Array<{ uid: string; restartPolicy?: string; image?: string; deletionTimestamp?: string }>): DesiredStateMessage {
  return {
    v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0,
    pods: pods.map((p) => ({
      pod: {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `pod-${p.uid}`, namespace: 'default', uid: p.uid, ...(p.deletionTimestamp ? { deletionTimestamp: p.deletionTimestamp, deletionGracePeriodSeconds: 1 } : {}) },
        spec: { restartPolicy: p.restartPolicy ?? 'Never', containers: [{ name: 'main', image: p.image ?? 'examples/hello:latest' }] },
      },
      podIP: '10.42.1.2',
      images: { 'examples/hello:latest': { digest: DIGEST, url: 'https://cp/registry' }, 'missing:latest': { error: 'component "missing:latest" not found' } },
    })),
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
};

describe('PodManager', () => {
  it('gives the node network the desired state\'s pod network (clusterCidr), the default without one', () => {
    const network = new NodeNetwork();
    const manager = new PodManager({ runtime: new ScriptedRuntime(), fetcher: new FakeFetcher(), clock: new FakeClock(), nodeName: 'n1', hostIP: '127.0.0.1', reporter: { podStatus: () => {}, event: () => {} }, network });
    manager.apply({ ...desired(1, []), clusterCidr: '172.20.0.0/16' });
    expect([network.isPodAddress('172.20.3.4'), network.isPodAddress('10.42.1.2')]).toEqual([true, false]);
    manager.apply(desired(2, [])); // an older control plane's
    expect([network.isPodAddress('172.20.3.4'), network.isPodAddress('10.42.1.2')]).toEqual([false, true]);
  });

  it('runs a pod to Succeeded and keeps its logs', async () => {
    const { runtime, manager, last, container } = setup();
    manager.apply(desired(1, [{ uid: 'a' }]));
    await until(() => runtime.started.length === 1);
    await until(() => last().status.phase === 'Running');
    expect(last().status.podIP).toBe('10.42.1.2');
    runtime.started[0]!.exit(0);
    await until(() => last().status.phase === 'Succeeded');
    expect(container()).toMatchObject({ state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(manager.findPod('default', 'pod-a')!.logs(undefined, false)!.read().map((l) => l.text)).toEqual(['run 1']);
  });

  it('completes a finished container\'s last line without a newline at its exit, not at the pod\'s end', async () => {
    const { runtime, manager, last } = setup();
    manager.apply(desired(1, [{ uid: 'a' }]));
    await until(() => runtime.started.length === 1);
    const logs = manager.findPod('default', 'pod-a')!.logs(undefined, false)!;
    const followed: string[] = [];
    logs.follow((l) => followed.push(l.text), () => {});
    runtime.started[0]!.spec.onOutput?.('stdout', new TextEncoder().encode('result: 42'));
    runtime.started[0]!.exit(0);
    await until(() => last().status.phase === 'Succeeded');
    // the pod stays (Succeeded, not deleted): a `kubectl logs -f` follower has the line now
    expect(followed).toEqual(['result: 42']);
    expect(logs.read({ partial: false }).map((l) => l.text)).toEqual(['run 1', 'result: 42']);
  });

  it('ignores a desired state that is not newer', () => {
    const { manager } = setup();
    expect(manager.apply(desired(5, []))).toBe(true);
    expect(manager.apply(desired(5, [{ uid: 'a' }]))).toBe(false);
    expect(manager.apply(desired(4, [{ uid: 'a' }]))).toBe(false);
    expect(manager.podCount).toBe(0);
  });

  it('restarts a failing container with CrashLoopBackOff on the clock', async () => {
    const { clock, runtime, manager, container, events } = setup();
    manager.apply(desired(1, [{ uid: 'a', restartPolicy: 'Always' }]));
    await until(() => runtime.started.length === 1);
    runtime.started[0]!.exit(2);
    await until(() => runtime.started.length === 2); // the first restart is immediate
    runtime.started[1]!.exit(2);
    await until(() => container()?.state.waiting?.reason === 'CrashLoopBackOff');
    expect(container()).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 2 } } });
    expect(events).toContain('BackOff');
    clock.advance(9_999);
    await until(() => true);
    expect(runtime.started.length).toBe(2);
    clock.advance(1);
    await until(() => runtime.started.length === 3);
    await until(() => container()?.restartCount === 2);
    expect(manager.findPod('default', 'pod-a')!.logs(undefined, true)!.read().map((l) => l.text)).toEqual(['run 2']);
  });

  it('stops a deleted pod and reports it removed', async () => {
    const { runtime, manager, statuses } = setup();
    manager.apply(desired(1, [{ uid: 'a', restartPolicy: 'Always' }]));
    await until(() => runtime.started.length === 1);
    manager.apply(desired(2, [{ uid: 'a', restartPolicy: 'Always', deletionTimestamp: '2026-01-01T00:00:00Z' }]));
    await until(() => statuses.some((s) => s.removed));
    expect(runtime.started[0]!.stopped).toBe(true);
    expect(runtime.started.length).toBe(1);
    expect(manager.podCount).toBe(0);
  });

  it('stops pods that disappear from the desired state', async () => {
    const { runtime, manager, statuses } = setup();
    manager.apply(desired(1, [{ uid: 'a', restartPolicy: 'Always' }]));
    await until(() => runtime.started.length === 1);
    manager.apply(desired(2, []));
    await until(() => statuses.some((s) => s.uid === 'a' && s.removed));
    expect(runtime.started[0]!.stopped).toBe(true);
  });

  it('waits with ErrImagePull for an image the registry does not have, and starts once it resolves', async () => {
    const { runtime, manager, last, container, events } = setup();
    manager.apply(desired(1, [{ uid: 'a', image: 'missing:latest' }]));
    await until(() => container()?.state.waiting?.reason === 'ImagePullBackOff');
    expect(last().status.phase).toBe('Pending');
    expect(container()?.state.waiting?.message).toMatch(/not found/);
    expect(events).toContain('Failed');
    expect(runtime.started.length).toBe(0);
    const next = desired(2, [{ uid: 'a', image: 'missing:latest' }]);
    next.pods[0]!.images['missing:latest'] = { digest: DIGEST, url: 'https://cp/registry' };
    manager.apply(next);
    await until(() => runtime.started.length === 1);
  });

  it('never runs a finished pod again after a restart from its persisted state', async () => {
    const first = setup();
    first.manager.apply(desired(1, [{ uid: 'a' }, { uid: 'b', restartPolicy: 'Always' }]));
    await until(() => first.runtime.started.length === 2);
    first.runtime.started.find((r) => r.spec.id.startsWith('a/'))!.exit(0);
    await until(() => first.statuses.some((s) => s.uid === 'a' && s.status.phase === 'Succeeded'));
    const state = first.manager.state();
    expect(Object.keys(state.finished)).toEqual(['a']);

    const second = setup();
    second.manager.restore({ desired: state.desired!, finished: state.finished as unknown as Record<string, Record<string, unknown>> });
    await until(() => second.runtime.started.length === 1);
    expect(second.runtime.started[0]!.spec.id).toMatch(/^b\//);
    expect(second.statuses.find((s) => s.uid === 'a')?.status.phase).toBe('Succeeded');
    expect(second.manager.appliedGeneration).toBe(1);
  });

  it('re-sends a removal after a reconnect until a desired state without the pod arrives', async () => {
    const { runtime, manager, statuses } = setup();
    manager.apply(desired(1, [{ uid: 'a', restartPolicy: 'Always' }]));
    await until(() => runtime.started.length === 1);
    manager.apply(desired(2, [{ uid: 'a', restartPolicy: 'Always', deletionTimestamp: '2026-01-01T00:00:00Z' }]));
    await until(() => statuses.some((s) => s.removed));
    const removals = () => statuses.filter((s) => s.uid === 'a' && s.removed).length;
    manager.republish(); // the first one may have been lost while offline
    expect(removals()).toBe(2);
    manager.apply(desired(3, []));
    manager.republish();
    expect(removals()).toBe(2);
  });

  it('does not report pods as failed when the agent itself shuts down', async () => {
    const { runtime, manager, statuses } = setup();
    manager.apply(desired(1, [{ uid: 'a', restartPolicy: 'Always' }]));
    await until(() => runtime.started.length === 1);
    const before = statuses.length;
    await manager.stopAll(10);
    expect(statuses.slice(before).some((s) => s.status.phase === 'Failed')).toBe(false);
    expect(manager.state().finished).toEqual({});
  });

  it('starts a sidecar first, keeps it up beside the app, and stops it when the app is done', async () => {
    const { runtime, manager, last } = setup();
    const message = desired(1, [{ uid: 'a' }]);
    (message.pods[0]!.pod.spec as Record<string, unknown>)['initContainers'] = [{ name: 'proxy', image: 'examples/hello:latest', restartPolicy: 'Always' }];
    manager.apply(message);
    await until(() => runtime.started.length === 2);
    expect(runtime.started.map((r) => r.spec.id.split('/')[1])).toEqual(['proxy', 'main']);
    await until(() => last().status.phase === 'Running');
    expect(last().status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    runtime.started[1]!.exit(0);
    await until(() => runtime.started[0]!.stopped);
    await until(() => last().status.phase === 'Succeeded');
    expect(runtime.started.length).toBe(2);
  });
});

describe('PodManager and finished pods', () => {
  it('keeps a finished pod (its logs) when the desired state lists it as finished, and never starts one it does not know', async () => {
    const { runtime, manager, last } = setup();
    manager.apply(desired(1, [{ uid: 'a' }]));
    await until(() => runtime.started.length === 1);
    runtime.started[0]!.exit(0);
    await until(() => last().status.phase === 'Succeeded');
    const next = desired(2, [{ uid: 'a' }, { uid: 'b' }]);
    for (const entry of next.pods) entry.finished = true;
    manager.apply(next);
    await until(() => true);
    expect(runtime.started.length).toBe(1);
    expect(manager.findPod('default', 'pod-a')!.logs(undefined, false)!.read().map((l) => l.text)).toEqual(['run 1']);
    expect(manager.findPod('default', 'pod-b')).toBeUndefined();
  });
});
