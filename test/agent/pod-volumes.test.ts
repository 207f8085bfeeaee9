import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { PodManager, type PodReporter } from '../../agent/pods/pod-manager.js';
import { PodVolumes, VolumeNotReadyError, type VolumeHostOptions } from '../../agent/pods/pod-volumes.js';
import { isHostPathAllowed } from '../../agent/volumes/host-path-dirs.js';
import { ContainerConfigError } from '../../agent/pods/container-config.js';
import { measureDirUsage } from '../../agent/volumes/dir-usage.js';
import { EmptyDirMonitor, type EvictablePod } from '../../agent/volumes/empty-dir-monitor.js';
import { removeUnlistedLocalVolumes } from '../../agent/volumes/local-path-dirs.js';
import { localPathDir } from '../../api/local-path.js';
import type { DesiredPod, DesiredStateMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { Pod } from '../../api/types/pod.js';
import type { ContainerExit, ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { waitFor } from '../mqtt/wait-for.js';
import { FakeClock } from '../support/fake-clock.js';

describe('hostPath allow-list', () => {
  it('allows a prefix and what is below it, nothing else', () => {
    expect(isHostPathAllowed('/srv/data', ['/srv/data'])).toBe(true);
    expect(isHostPathAllowed('/srv/data/app/x', ['/srv/data'])).toBe(true);
    expect(isHostPathAllowed('/srv/database', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('/srv/data/../../etc', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('srv/data', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('/etc', [])).toBe(false);
  });
});

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'skiff-volumes-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const aPod = (volumes: Array<Record<string, unknown>>, mounts: Array<Record<string, unknown>> = []): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'main', image: 'x', volumeMounts: mounts as never }], volumes: volumes as never },
});
const host = (): VolumeHostOptions => ({ dataDir: join(dir, 'data'), memoryDir: join(dir, 'shm'), allowedHostPaths: [join(dir, 'allowed')] });

describe('local-path node paths', () => {
  it('names the one directory under the prefix, and refuses paths that leave it', () => {
    expect(localPathDir('/var/lib/skiff/local-path/pvc-1_default_data')).toBe('pvc-1_default_data');
    expect(localPathDir('/var/lib/skiff/local-path/pvc-1/sub')).toBe('pvc-1');
    expect(localPathDir('/var/lib/skiff/local-path/../etc')).toBeUndefined();
    expect(localPathDir('/var/lib/skiff/local-pathx/a')).toBeUndefined();
    expect(localPathDir('/srv/data')).toBeUndefined();
  });
});

describe('persistentVolumeClaim volumes', () => {
  const claimVolume = [{ name: 'store', persistentVolumeClaim: { claimName: 'data' } }];

  it('waits while the claim is not bound, then mounts the local-path directory in the data dir', async () => {
    const volumes = new PodVolumes(aPod(claimVolume, [{ name: 'store', mountPath: '/data' }]), host(), undefined, { nodeName: 'n1' });
    await expect(volumes.prepare()).rejects.toBeInstanceOf(VolumeNotReadyError);
    await expect(volumes.prepare()).rejects.toThrow('waiting for persistentvolumeclaim "data" to be bound to a volume');
    await volumes.update(aPod(claimVolume, [{ name: 'store', mountPath: '/data' }]), undefined, { store: { volumeName: 'pvc-1', path: '/var/lib/skiff/local-path/pvc-1_default_data' } });
    await volumes.prepare();
    const expected = join(dir, 'data', 'volumes', 'local-path', 'pvc-1_default_data');
    expect(existsSync(expected)).toBe(true);
    expect(volumes.preopens(aPod([], [{ name: 'store', mountPath: '/data' }]).spec.containers[0]!)).toEqual([{ hostPath: expected, guestPath: '/data', readOnly: false }]);
    expect(volumes.localPathDirs()).toEqual(['pvc-1_default_data']);
  });

  it('mounts a static hostPath volume only under an allowed prefix, read-only when the pod says so', async () => {
    const ro = [{ name: 'store', persistentVolumeClaim: { claimName: 'data', readOnly: true } }];
    const refused = new PodVolumes(aPod(ro), host(), undefined, { nodeName: 'n1' }, { store: { volumeName: 'static', path: '/etc' } });
    await expect(refused.prepare()).rejects.toBeInstanceOf(ContainerConfigError);
    await expect(refused.prepare()).rejects.toThrow(/persistentvolume "static": path \/etc is neither under \/var\/lib\/skiff\/local-path nor under an --allow-host-path prefix/);
    const allowedPath = join(dir, 'allowed', 'disk');
    const volumes = new PodVolumes(aPod(ro), host(), undefined, { nodeName: 'n1' }, { store: { volumeName: 'static', path: allowedPath } });
    await volumes.prepare();
    expect(volumes.preopens({ name: 'main', image: 'x', volumeMounts: [{ name: 'store', mountPath: '/d' }] })).toEqual([{ hostPath: allowedPath, guestPath: '/d', readOnly: true }]);
    const unsupported = new PodVolumes(aPod(ro), host(), undefined, { nodeName: 'n1' }, { store: { volumeName: 'nfs-1', error: 'persistentvolume "nfs-1" has a nfs source' } });
    await expect(unsupported.prepare()).rejects.toThrow('volume store: persistentvolume "nfs-1" has a nfs source');
  });

  it('removes local-path directories the control plane no longer lists, except those in use', async () => {
    const root = join(dir, 'data', 'volumes', 'local-path');
    for (const d of ['keep', 'gone', 'busy']) mkdirSync(join(root, d), { recursive: true });
    const removed = await removeUnlistedLocalVolumes(join(dir, 'data'), ['/var/lib/skiff/local-path/keep'], new Set(['busy']));
    expect(removed).toEqual(['gone']);
    expect(['keep', 'gone', 'busy'].map((d) => existsSync(join(root, d)))).toEqual([true, false, true]);
  });
});

describe('emptyDir usage', () => {
  it('counts the bytes of files, stops past the limit, and gives up at its entry budget', async () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'one'), Buffer.alloc(600));
    writeFileSync(join(dir, 'a', 'b', 'two'), Buffer.alloc(600));
    symlinkSync('/', join(dir, 'a', 'root')); // not followed
    expect(await measureDirUsage(join(dir, 'a'), 10_000)).toEqual({ bytes: 1200, exceeded: false, partial: false });
    expect(await measureDirUsage(join(dir, 'a'), 1000)).toEqual({ bytes: 1200, exceeded: true, partial: false });
    expect((await measureDirUsage(join(dir, 'a'), 10_000, 2)).partial).toBe(true);
    expect(await measureDirUsage(join(dir, 'missing'), 10)).toEqual({ bytes: 0, exceeded: false, partial: false });
  });

  it('lists the emptyDirs with a sizeLimit and refuses a limit that is no quantity', async () => {
    const volumes = new PodVolumes(aPod([{ name: 'scratch', emptyDir: { sizeLimit: '1Ki' } }, { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } }, { name: 'free', emptyDir: {} }]), host(), undefined, { nodeName: 'n1' });
    await volumes.prepare();
    expect(volumes.sizeLimited()).toEqual([
      { name: 'scratch', dir: join(dir, 'data', 'pods', 'u1', 'volumes', 'scratch'), limitBytes: 1024, limitText: '1Ki' },
      { name: 'ram', dir: join(dir, 'shm', 'u1', 'ram'), limitBytes: 2 * 1024 * 1024, limitText: '2Mi' },
    ]);
    const bad = new PodVolumes(aPod([{ name: 'scratch', emptyDir: { sizeLimit: 'lots' } }]), host(), undefined, { nodeName: 'n1' });
    await expect(bad.prepare()).rejects.toThrow('volume scratch: invalid emptyDir sizeLimit "lots"');
  });

  it('measures on its interval of the injected clock and evicts only a pod over its limit', async () => {
    const clock = new FakeClock();
    mkdirSync(join(dir, 'over'));
    mkdirSync(join(dir, 'under'));
    writeFileSync(join(dir, 'over', 'f'), Buffer.alloc(2048));
    writeFileSync(join(dir, 'under', 'f'), Buffer.alloc(512));
    const evicted: string[] = [];
    let sweeps = 0;
    const pod = (uid: string, d: string): EvictablePod => ({ uid, sizeLimitedVolumes: () => [{ name: 'scratch', dir: join(dir, d), limitBytes: 1024, limitText: '1Ki' }], evict: (m) => evicted.push(`${uid}: ${m}`) });
    const monitor = new EmptyDirMonitor({ clock, intervalMs: 10_000, pods: () => { sweeps++; return [pod('a', 'under'), pod('b', 'over')]; } });
    monitor.start();
    clock.advance(9_999);
    expect(sweeps).toBe(0);
    clock.advance(1);
    await monitor.check(); // joins the sweep the timer started
    expect(sweeps).toBe(1);
    expect(evicted).toEqual(['b: Usage of EmptyDir volume "scratch" exceeds the limit "1Ki".']);
    monitor.stop();
    clock.advance(60_000);
    expect(sweeps).toBe(1);
  });
});

/** A runtime whose containers run until stopped. */
class ForeverRuntime implements PodRuntime {
  readonly started: ContainerSpec[] = [];
  stops = 0;
  async load(digest: string): Promise<LoadedComponent> { return { digest }; }
  async start(spec: ContainerSpec): Promise<RunningContainer> {
    this.started.push(spec);
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    const startedAt = new Date();
    return { id: spec.id, startedAt, exited, stop: async () => { this.stops++; settle({ exitCode: 137, reason: 'Killed', startedAt, finishedAt: new Date() }); return exited; } };
  }
  async close(): Promise<void> {}
}
class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: true }; }
}

describe('PodManager with volumes', () => {
  const DIGEST = `sha256:${'1'.repeat(64)}`;
  const desired = (generation: number, volumes: Array<Record<string, unknown>>, extra: Partial<DesiredPod> = {}, localVolumes?: string[]): DesiredStateMessage => ({
    v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0, ...(localVolumes ? { localVolumes } : {}),
    pods: [{
      pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'main', image: 'img', volumeMounts: [{ name: volumes[0]!['name'], mountPath: '/data' }] }], volumes } },
      images: { img: { digest: DIGEST, url: 'https://cp/x' } }, ...extra,
    }],
  });
  const setup = () => {
    const clock = new FakeClock();
    const runtime = new ForeverRuntime();
    const statuses: Array<Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = [];
    const events: string[] = [];
    const reporter: PodReporter = { podStatus: (m) => statuses.push(m), event: (m) => events.push(`${m.type} ${m.reason}: ${m.message}`) };
    const manager = new PodManager({ runtime, fetcher: new FakeFetcher(), clock, nodeName: 'n1', hostIP: '127.0.0.1', reporter, volumeHost: { ...host(), sizeLimitCheckIntervalMs: 5_000 } });
    const until = (what: string, cond: () => boolean) => waitFor(what, cond, { intervalMs: 2 });
    return { clock, runtime, statuses, events, manager, until, last: () => statuses.at(-1)! };
  };

  it('keeps a pod Pending (ContainerCreating, FailedMount) until its claim is resolved, then starts it', async () => {
    const { runtime, manager, events, until, last } = setup();
    const volumes = [{ name: 'store', persistentVolumeClaim: { claimName: 'data' } }];
    manager.apply(desired(1, volumes));
    // waiting (a newer desired state cuts its back-off short, or skips one not begun yet)
    await until('FailedMount', () => events.some((e) => e.includes('FailedMount')) && (last()?.status.containerStatuses?.[0] as { state?: { waiting?: { reason?: string } } } | undefined)?.state?.waiting?.reason === 'ContainerCreating');
    expect(events.filter((e) => e.includes('pulling image'))).toEqual([]); // no image was pulled or failed
    expect(last().status.phase).toBe('Pending');
    expect(last().status.containerStatuses?.[0]).toMatchObject({ state: { waiting: { reason: 'ContainerCreating', message: 'waiting for persistentvolumeclaim "data" to be bound to a volume' } } });
    expect(runtime.started).toHaveLength(0);
    manager.apply(desired(2, volumes, { persistentVolumes: { store: { volumeName: 'pvc-1', path: '/var/lib/skiff/local-path/pvc-1_default_data' } } }, ['/var/lib/skiff/local-path/pvc-1_default_data']));
    await until('started', () => runtime.started.length === 1);
    expect(runtime.started[0]!.preopens).toEqual([{ hostPath: join(dir, 'data', 'volumes', 'local-path', 'pvc-1_default_data'), guestPath: '/data', readOnly: false }]);
    await manager.stopAll(0);
  });

  it('evicts a pod whose emptyDir passes its sizeLimit: Failed, Evicted, event, containers stopped, volume freed', async () => {
    const { clock, runtime, manager, events, until, last } = setup();
    manager.apply(desired(1, [{ name: 'scratch', emptyDir: { sizeLimit: '1Ki' } }]));
    await until('running', () => last()?.status.phase === 'Running');
    const scratch = join(dir, 'data', 'pods', 'u1', 'volumes', 'scratch');
    writeFileSync(join(scratch, 'small'), Buffer.alloc(1000));
    clock.advance(5_000);
    await manager.checkSizeLimits();
    expect(runtime.stops).toBe(0);
    writeFileSync(join(scratch, 'more'), Buffer.alloc(1000));
    clock.advance(5_000);
    await manager.checkSizeLimits();
    const message = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Ki".';
    await until('evicted', () => last().status.phase === 'Failed' && !existsSync(scratch));
    expect(last().status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(last().status.conditions).toContainEqual(expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }));
    expect(events).toContain(`Warning Evicted: ${message}`);
    expect(runtime.stops).toBe(1);
    expect(manager.state().finished['u1']).toMatchObject({ phase: 'Failed', reason: 'Evicted' });
    await manager.stopAll(0);
  });

  it('removes local-path directories only on a desired state from the control plane, never on a restored one', async () => {
    const root = join(dir, 'data', 'volumes', 'local-path');
    mkdirSync(join(root, 'old'), { recursive: true });
    const { manager } = setup();
    const volumes = [{ name: 'scratch', emptyDir: {} }];
    manager.restore({ desired: desired(1, volumes, {}, []), finished: {} });
    await manager.localVolumesRemoved();
    expect(existsSync(join(root, 'old'))).toBe(true);
    manager.apply(desired(2, volumes, {}, []));
    await manager.localVolumesRemoved();
    expect(existsSync(join(root, 'old'))).toBe(false);
    await manager.stopAll(0);
  });
});
