// Node memory: a default limit for containers that set none, and admission against allocatable
// memory (a pod that does not fit is rejected, OutOfmemory, never started).
import { describe, expect, it } from 'vitest';
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { describeNode, defaultAllocatableMemory } from '../../agent/node-info.js';
import { admitPod, podMemoryRequest } from '../../agent/pods/pod-admission.js';
import { PodManager, type PodReporter } from '../../agent/pods/pod-manager.js';
import type { DesiredStateMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { ContainerExit, ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

const Mi = 1024 * 1024;
const DIGEST = `sha256:${'1'.repeat(64)}`;

const container = (name: string, resources?: Container['resources'], restartPolicy?: 'Always'): Container =>
  ({ name, image: 'img', ...(resources ? { resources } : {}), ...(restartPolicy ? { restartPolicy } : {}) });
const aPod = (uid: string, containers: Container[], initContainers: Container[] = []): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${uid}`, namespace: 'default', uid },
  spec: { restartPolicy: 'Never', containers, ...(initContainers.length ? { initContainers } : {}) },
});

describe('pod memory requests', () => {
  it('adds app containers, takes the largest init container, counts sidecars alongside, and a limit stands for a missing request', () => {
    const pod = aPod('a', [container('a', { requests: { memory: '10Mi' } }), container('b', { limits: { memory: '20Mi' } }), container('c')],
      [container('init', { requests: { memory: '100Mi' } }), container('side', { requests: { memory: '5Mi' } }, 'Always'), container('late', { requests: { memory: '30Mi' } })]);
    // app 10 + 20 + 0 + sidecar 5 = 35; init peak: max(100, 5, 5 + 30) = 100
    expect(podMemoryRequest(pod)).toBe(100 * Mi);
    expect(podMemoryRequest(aPod('b', [container('a', { requests: { memory: '64Mi' } })], [container('side', { requests: { memory: '8Mi' } }, 'Always')]))).toBe(72 * Mi);
    expect(podMemoryRequest(aPod('c', [container('a')]))).toBe(0);
  });

  it('admits while the requests fit the allocatable memory, with the kubelet\'s message when they do not', () => {
    const running = [aPod('a', [container('a', { requests: { memory: '64Mi' } })])];
    const big = aPod('b', [container('a', { requests: { memory: '65Mi' } })]);
    expect(admitPod(big, running, 128 * Mi)).toEqual({
      admitted: false, reason: 'OutOfmemory',
      message: `Node didn't have enough resource: memory, requested: ${65 * Mi}, used: ${64 * Mi}, capacity: ${128 * Mi}`,
    });
    expect(admitPod(aPod('c', [container('a', { limits: { memory: '64Mi' } })]), running, 128 * Mi)).toEqual({ admitted: true });
    expect(admitPod(aPod('d', [container('a')]), [...running, big, big], 128 * Mi)).toEqual({ admitted: true }); // BestEffort
    expect(admitPod(big, running, undefined)).toEqual({ admitted: true });
  });
});

describe('node memory', () => {
  it('keeps a reserve for the system and reports allocatable memory apart from capacity', () => {
    expect(defaultAllocatableMemory(4096 * Mi)).toBe(3072 * Mi);
    expect(defaultAllocatableMemory(1024 * Mi)).toBe(768 * Mi);
    expect(defaultAllocatableMemory(512 * Mi)).toBe(256 * Mi);
    expect(defaultAllocatableMemory(256 * Mi)).toBe(64 * Mi);
    const node = describeNode({ node: 'n1', labels: {}, nodeIP: '127.0.0.1', maxPods: 10, bootId: 'b', allocatableMemoryBytes: 300 * Mi });
    expect(node.allocatable['memory']).toBe('300Mi');
    expect(node.capacity['memory']).not.toBe('300Mi');
  });
});

/** Containers run until stopped or ended by the test. */
class RecordingRuntime implements PodRuntime {
  readonly started: Array<{ spec: ContainerSpec; exit: (code: number) => void }> = [];
  async load(digest: string): Promise<LoadedComponent> { return { digest }; }
  async start(spec: ContainerSpec): Promise<RunningContainer> {
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    const startedAt = new Date();
    const exit = (exitCode: number) => settle({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date() });
    this.started.push({ spec, exit });
    return { id: spec.id, startedAt, exited, stop: async () => { exit(137); return exited; } };
  }
  async close(): Promise<void> {}
}
class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: false }; }
}

describe('PodManager admission and default limits', () => {
  const desired = (generation: number, pods: Pod[]): DesiredStateMessage => ({
    v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0,
    pods: pods.map((pod) => ({ pod: pod as never, images: { img: { digest: DIGEST, url: 'https://cp/x' } } })),
  });
  const setup = () => {
    const runtime = new RecordingRuntime();
    const statuses: Array<Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = [];
    const events: string[] = [];
    const reporter: PodReporter = { podStatus: (m) => statuses.push(m), event: (m) => events.push(`${m.type} ${m.reason} ${m.involvedObject.name}: ${m.message}`) };
    const manager = new PodManager({
      runtime, fetcher: new FakeFetcher(), clock: new FakeClock(), nodeName: 'n1', hostIP: '127.0.0.1', reporter,
      allocatableMemoryBytes: 100 * Mi, containerDefaults: { memoryLimitBytes: 32 * Mi },
    });
    const statusOf = (uid: string) => statuses.filter((s) => s.uid === uid).at(-1)?.status;
    return { runtime, events, manager, statusOf };
  };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
    expect(cond()).toBe(true);
  };

  it('gives a container without a memory limit the node default, and keeps an explicit one', async () => {
    const { runtime, manager } = setup();
    manager.apply(desired(1, [aPod('a', [container('plain'), container('limited', { limits: { memory: '8Mi' } })])]));
    await until(() => runtime.started.length === 2);
    const limits = Object.fromEntries(runtime.started.map((s) => [s.spec.id.split('/')[1], s.spec.limits?.memoryBytes]));
    expect(limits).toEqual({ plain: 32 * Mi, limited: 8 * Mi });
    await manager.stopAll(0);
  });

  it('rejects a pod whose request does not fit (Failed, OutOfmemory, an event), never starts it, and admits again once memory is free', async () => {
    const { runtime, events, manager, statusOf } = setup();
    const first = aPod('a', [container('main', { requests: { memory: '60Mi' } })]);
    const second = aPod('b', [container('main', { requests: { memory: '50Mi' } })]);
    manager.apply(desired(1, [first]));
    await until(() => runtime.started.length === 1);
    manager.apply(desired(2, [first, second]));
    await until(() => statusOf('b')?.phase === 'Failed');
    const message = `Node didn't have enough resource: memory, requested: ${50 * Mi}, used: ${60 * Mi}, capacity: ${100 * Mi}`;
    expect(statusOf('b')).toMatchObject({ phase: 'Failed', reason: 'OutOfmemory', message: `Pod was rejected: ${message}` });
    expect(events).toContain(`Warning OutOfmemory pod-b: ${message}`);
    expect(runtime.started).toHaveLength(1);
    expect(manager.state().finished['b']).toMatchObject({ reason: 'OutOfmemory' }); // persisted: never run after a restart either
    // a later desired state does not retry it; a new pod once the first has ended fits
    runtime.started[0]!.exit(0);
    await until(() => statusOf('a')?.phase === 'Succeeded');
    manager.apply(desired(3, [first, second, aPod('c', [container('main', { requests: { memory: '90Mi' } })])]));
    await until(() => runtime.started.length === 2);
    expect(runtime.started[1]!.spec.id.startsWith('c/')).toBe(true);
    expect(statusOf('b')?.reason).toBe('OutOfmemory');
    await manager.stopAll(0);
  });
});
