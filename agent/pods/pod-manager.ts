// Applies the node's desired state: starts pods that are new, updates changed ones, stops deleted
// ones, and reports each pod's status (deduplicated) and events through a PodReporter. It also
// remembers what must survive an agent restart or a lost link: finished pods (never re-run) and
// removals the control plane has not yet seen (re-sent after every reconnect).
import type { Clock } from '../../api/clock.js';
import type { DesiredPod, DesiredStateMessage, EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import { isTerminalPhase, type Pod, type PodStatus } from '../../api/types/pod.js';
import type { PodRuntime } from '../../runtime/pod-runtime.js';
import type { ComponentFetcher } from '../component-fetcher.js';
import { ComponentPuller } from './component-puller.js';
import { ConfigSet } from './config-lookup.js';
import type { ContainerDefaults } from './container-config.js';
import { admitPod, rejectedStatus, type Admission } from './pod-admission.js';
import { PodWorker } from './pod-worker.js';
import { PodVolumes, type VolumeHostOptions } from './pod-volumes.js';
import type { HostPorts } from './host-ports.js';
import type { NodeNetwork } from '../network/node-network.js';
import { EmptyDirMonitor, type EvictablePod } from '../volumes/empty-dir-monitor.js';
import { removeUnlistedLocalVolumes } from '../volumes/local-path-dirs.js';
import type { PodObserver } from '../agent-metrics.js';

type Envelope = 'v' | 'sessionId' | 'seq' | 'ts';

export interface PodReporter {
  podStatus(message: Omit<PodStatusMessage, Envelope>): void;
  event(message: Omit<EventMessage, Envelope>): void;
}

export interface PodManagerOptions {
  runtime: PodRuntime;
  fetcher: ComponentFetcher;
  clock: Clock;
  nodeName: string;
  hostIP: string;
  reporter: PodReporter;
  logBufferBytes?: number;
  /** Where volumes live; without it pods with volumes wait in CreateContainerConfigError. */
  volumeHost?: VolumeHostOptions;
  /** Called when what must be persisted changes (applied desired state, finished pods). */
  onStateChange?: () => void;
  /** Exposes pods' hostPorts on the node (absent: they are not). */
  hostPorts?: HostPorts;
  /** Memory the node's pods may request together; a pod that does not fit is rejected (OutOfmemory). */
  allocatableMemoryBytes?: number;
  /** Limits for containers that set none (the default memory limit). */
  containerDefaults?: ContainerDefaults;
  /** Pod start latency and image pulls (metrics). */
  observer?: PodObserver;
  /** The node's pod network: pod IPs, Services (agent/network/); absent: pods reach only themselves. */
  network?: NodeNetwork;
}

/** What the agent persists: the applied desired state and the final status of finished pods. */
export interface PodManagerState {
  desired: DesiredStateMessage | undefined;
  finished: Record<string, PodStatus>;
}

export class PodManager {
  #generation = 0;
  readonly #workers = new Map<string, PodWorker>();
  readonly #lastSent = new Map<string, string>();
  readonly #removing = new Set<string>();
  /** Pods that ran to completion on this node (possibly before an agent restart): uid -> final status. */
  readonly #finished = new Map<string, { name: string; namespace: string; status: PodStatus }>();
  /** Removals reported while the control plane may not have heard them; dropped once a desired state omits the pod. */
  readonly #unackedRemovals = new Map<string, Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>>();
  #desired: DesiredStateMessage | undefined;
  #config = new ConfigSet();
  readonly #volumes = new Map<string, PodVolumes>();
  #shuttingDown = false;
  /** Applying a persisted desired state: not the control plane's word, so no local volume is removed. */
  #restoring = false;
  readonly #sizeLimits: EmptyDirMonitor | undefined;
  /** Removals of local-path directories, one after the other. */
  #localVolumeRemoval: Promise<void> = Promise.resolve();
  /** The local volumes the control plane's last desired state listed (undefined: none heard yet). */
  #keepLocalVolumes: string[] | undefined;
  /** Pods whose start has not been observed yet: uid -> when the agent was given them (performance.now()). */
  readonly #starting = new Map<string, number>();
  readonly #images: ComponentPuller;

  constructor(private readonly options: PodManagerOptions) {
    this.#images = new ComponentPuller(options.runtime, options.fetcher, options.observer);
    const host = options.volumeHost;
    if (host) {
      this.#sizeLimits = new EmptyDirMonitor({ clock: options.clock, pods: () => this.#evictable(), ...(host.sizeLimitCheckIntervalMs ? { intervalMs: host.sizeLimitCheckIntervalMs } : {}) });
      this.#sizeLimits.start();
    }
  }

  /** Resolves when the local-path directories the applied desired states dropped are gone. */
  localVolumesRemoved(): Promise<void> {
    return this.#localVolumeRemoval;
  }

  /** Measures every sizeLimit emptyDir now (the monitor also does so on its interval). */
  checkSizeLimits(): Promise<void> {
    return this.#sizeLimits?.check() ?? Promise.resolve();
  }

  /** Generation of the desired state applied last (0: none). */
  get appliedGeneration(): number {
    return this.#generation;
  }

  get podCount(): number {
    return this.#workers.size;
  }

  /** Restores what a previous run of the agent persisted, then applies its desired state (offline start). */
  restore(state: { desired: DesiredStateMessage; finished: Record<string, Record<string, unknown>> }): void {
    for (const p of state.desired.pods) {
      const status = state.finished[p.pod.metadata.uid];
      if (status) this.#finished.set(p.pod.metadata.uid, { name: p.pod.metadata.name, namespace: p.pod.metadata.namespace, status: status as unknown as PodStatus });
    }
    this.#restoring = true;
    try {
      this.apply(state.desired);
    } finally {
      this.#restoring = false;
    }
  }

  /** The state to persist (see PodManagerState). */
  state(): PodManagerState {
    const finished: Record<string, PodStatus> = {};
    for (const [uid, f] of this.#finished) finished[uid] = f.status;
    return { desired: this.#desired, finished };
  }

  /** Applies a desired state if it is newer than the one applied; returns whether it did. */
  apply(desired: DesiredStateMessage): boolean {
    if (desired.generation <= this.#generation) return false;
    this.#generation = desired.generation;
    this.#desired = desired;
    this.#config = new ConfigSet(desired.configMaps, desired.secrets);
    // parts on their own topics (decision 057) are the agent's to apply as they come; an older
    // control plane sends every part here, an absent one meaning none
    const split = new Set(desired.parts ?? []);
    if (!split.has('services')) this.options.network?.setServices(desired.services ?? []);
    this.options.network?.setClusterCidr(desired.clusterCidr);
    if (!split.has('peers')) this.options.network?.setPeers((desired.peers ?? []).filter((p) => p.node !== this.options.nodeName)); // never itself
    if (!split.has('policies')) this.options.network?.policies.set(desired.networkPolicies ?? []);
    const wanted = new Map(desired.pods.map((p) => [p.pod.metadata.uid, p]));
    for (const uid of [...this.#unackedRemovals.keys()]) {
      if (!wanted.has(uid)) this.#unackedRemovals.delete(uid);
    }
    for (const uid of [...this.#finished.keys()]) {
      if (!wanted.has(uid)) this.#finished.delete(uid);
    }
    for (const [uid, worker] of this.#workers) {
      if (!wanted.has(uid)) void this.#remove(worker, 0);
    }
    for (const [uid, desiredPod] of wanted) {
      const worker = this.#workers.get(uid);
      const finished = this.#finished.get(uid);
      if (desiredPod.finished) {
        // ended for good: keep its logs and final status, never start it (or restart it)
        if (!worker && finished) this.#sendFinished(uid, finished.name, finished.namespace, finished.status);
        continue;
      }
      if (!worker && finished) {
        // it ran to completion before this agent restarted: report it, never run it again
        if (desiredPod.pod.metadata['deletionTimestamp']) {
          this.#finished.delete(uid);
          this.#sendRemoved(uid, finished.name, finished.namespace, finished.status);
        } else {
          this.#sendFinished(uid, finished.name, finished.namespace, finished.status);
        }
      } else if (worker) {
        void this.#volumes.get(uid)?.update(desiredPod.pod as unknown as Pod, this.#config, desiredPod.persistentVolumes).catch(() => undefined);
        worker.update(desiredPod);
        if (desiredPod.pod.metadata['deletionTimestamp']) void this.#remove(worker, undefined);
      } else if (!desiredPod.pod.metadata['deletionTimestamp']) {
        this.#startPod(desiredPod);
      } else {
        // deleted before it ever ran here: nothing to stop
        this.#sendRemoved(uid, desiredPod.pod.metadata.name, desiredPod.pod.metadata.namespace);
      }
    }
    if (!this.#restoring && desired.localVolumes) {
      this.#keepLocalVolumes = desired.localVolumes;
      this.#scheduleLocalVolumeRemoval();
    }
    this.options.onStateChange?.();
    return true;
  }

  /** Sends every pod's current status again (after a reconnect or a new control-plane epoch). */
  republish(): void {
    this.#lastSent.clear();
    for (const worker of this.#workers.values()) this.#sendStatus(worker, worker.status());
    for (const [uid, f] of this.#finished) {
      if (!this.#workers.has(uid)) this.#sendFinished(uid, f.name, f.namespace, f.status);
    }
    for (const removal of this.#unackedRemovals.values()) this.options.reporter.podStatus(removal);
  }

  findPod(namespace: string, name: string): PodWorker | undefined {
    for (const worker of this.#workers.values()) {
      if (worker.pod.metadata.name === name && worker.pod.metadata.namespace === namespace) return worker;
    }
    return undefined;
  }

  /** Counts of running containers, for node status (PIDPressure analogue). */
  get workers(): Iterable<PodWorker> {
    return this.#workers.values();
  }

  /** Stops every pod (agent shutdown): containers end, nothing is reported as removed. */
  async stopAll(gracePeriodMs: number): Promise<void> {
    // the pods are not ending, the agent is: the control plane must not see them fail
    this.#shuttingDown = true;
    this.#sizeLimits?.stop();
    await Promise.all([...this.#workers.values()].map((w) => w.terminate(gracePeriodMs)));
    // no write (a prepare waiting for its token, a rotation) may land while the agent removes its tmpfs
    await Promise.all([...this.#volumes.values()].map((v) => v.close()));
  }

  #startPod(desired: DesiredPod): void {
    const uid = desired.pod.metadata.uid;
    const { name, namespace } = desired.pod.metadata;
    const active = [...this.#workers.values()].filter((w) => !isTerminalPhase(w.phase)).map((w) => w.pod);
    const admission = admitPod(desired.pod as unknown as Pod, active, this.options.allocatableMemoryBytes);
    if (!admission.admitted) return this.#reject(uid, name, namespace, admission);
    const host = this.options.volumeHost;
    const volumes = host ? new PodVolumes(desired.pod as unknown as Pod, host, this.#config, { nodeName: this.options.nodeName, ...(desired.podIP ? { podIP: desired.podIP } : {}) }, desired.persistentVolumes) : undefined;
    if (volumes) this.#volumes.set(uid, volumes);
    const worker: PodWorker = new PodWorker(desired, {
      ...(volumes ? { volumes } : {}),
      ...(this.options.hostPorts ? { hostPorts: this.options.hostPorts } : {}),
      ...(this.options.network ? { network: this.options.network } : {}),
      ...(this.options.containerDefaults ? { containerDefaults: this.options.containerDefaults } : {}),
      config: () => this.#config,
      runtime: this.options.runtime,
      pullImage: (container, d, onProgress) => this.#images.pull(container, d, onProgress),
      clock: this.options.clock,
      nodeName: this.options.nodeName,
      hostIP: this.options.hostIP,
      logBufferBytes: this.options.logBufferBytes,
      onStatus: (status) => this.#sendStatus(worker, status),
      onEvent: (type, reason, message, fieldPath) => this.options.reporter.event({
        involvedObject: { kind: 'Pod', name, namespace, uid, ...(fieldPath ? { fieldPath } : {}) },
        type, reason, message,
      }),
    });
    this.#workers.set(uid, worker);
    this.#starting.set(uid, performance.now()); // a measurement, not timed logic
    worker.start();
  }

  /** A pod that does not fit on this node: never started, Failed for good (as the kubelet rejects one). */
  #reject(uid: string, name: string, namespace: string, rejection: Exclude<Admission, { admitted: true }>): void {
    const status = rejectedStatus(rejection, this.options.clock.now());
    this.#finished.set(uid, { name, namespace, status });
    this.options.reporter.event({ involvedObject: { kind: 'Pod', name, namespace, uid }, type: 'Warning', reason: rejection.reason, message: rejection.message });
    this.#sendFinished(uid, name, namespace, status);
  }

  /** Stops a pod (grace from its deletion, or `graceMs`) and reports it removed. */
  async #remove(worker: PodWorker, graceMs: number | undefined): Promise<void> {
    if (this.#removing.has(worker.uid)) return;
    this.#removing.add(worker.uid);
    const meta = worker.pod.metadata;
    const grace = graceMs ?? (meta.deletionGracePeriodSeconds ?? worker.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await worker.terminate(grace);
    await this.#volumes.get(worker.uid)?.cleanup().catch(() => undefined);
    this.#volumes.delete(worker.uid);
    this.#scheduleLocalVolumeRemoval(); // a directory it kept in use may go now
    this.#workers.delete(worker.uid);
    this.#starting.delete(worker.uid);
    this.#removing.delete(worker.uid);
    this.#sendRemoved(worker.uid, meta.name!, meta.namespace!, worker.status());
  }

  /** Running pods with volumes, for the sizeLimit monitor. */
  *#evictable(): Iterable<EvictablePod> {
    for (const [uid, worker] of this.#workers) {
      const volumes = this.#volumes.get(uid);
      if (!volumes || worker.terminating || this.#finished.has(uid)) continue;
      yield { uid, sizeLimitedVolumes: () => volumes.sizeLimited(), evict: (message) => void this.#evict(worker, message) };
    }
  }

  /** Stops an evicted pod and frees its volumes (as the kubelet does); it stays, Failed, until deleted. */
  async #evict(worker: PodWorker, message: string): Promise<void> {
    await worker.evict(message);
    await this.#volumes.get(worker.uid)?.cleanup().catch(() => undefined);
  }

  /** Local-path directories whose volumes are gone (not listed by the control plane) go, unless a pod here mounts one. */
  #scheduleLocalVolumeRemoval(): void {
    if (this.#keepLocalVolumes) this.#localVolumeRemoval = this.#localVolumeRemoval.then(() => this.#removeLocalVolumes(this.#keepLocalVolumes ?? []));
  }

  async #removeLocalVolumes(keep: string[]): Promise<void> {
    const host = this.options.volumeHost;
    if (!host) return;
    const inUse = new Set([...this.#volumes.values()].flatMap((v) => v.localPathDirs()));
    await removeUnlistedLocalVolumes(host.dataDir, keep, inUse).catch(() => undefined);
  }

  #sendRemoved(uid: string, name: string, namespace: string, status?: PodStatus): void {
    this.#lastSent.delete(uid);
    const message = {
      uid, name, namespace, removed: true,
      status: (status ?? { phase: 'Failed' }) as PodStatusMessage['status'],
    };
    this.#unackedRemovals.set(uid, message);
    this.options.reporter.podStatus(message);
  }

  #sendFinished(uid: string, name: string, namespace: string, status: PodStatus): void {
    const text = JSON.stringify(status);
    if (this.#lastSent.get(uid) === text) return;
    this.#lastSent.set(uid, text);
    this.options.reporter.podStatus({ uid, name, namespace, removed: false, status: status as PodStatusMessage['status'] });
  }

  #sendStatus(worker: PodWorker, status: PodStatus): void {
    if (this.#shuttingDown || !this.#workers.has(worker.uid) || this.#removing.has(worker.uid)) return;
    const text = JSON.stringify(status);
    if (this.#lastSent.get(worker.uid) === text) return;
    this.#lastSent.set(worker.uid, text);
    this.#observeStart(worker.uid, status);
    if ((status.phase === 'Succeeded' || status.phase === 'Failed') && (!worker.terminating || worker.evicted) && !this.#finished.has(worker.uid)) {
      this.#finished.set(worker.uid, { name: worker.pod.metadata.name!, namespace: worker.pod.metadata.namespace!, status });
      this.options.onStateChange?.();
    }
    const meta = worker.pod.metadata;
    this.options.reporter.podStatus({
      uid: worker.uid, name: meta.name!, namespace: meta.namespace!, removed: false,
      status: status as PodStatusMessage['status'],
    });
  }

  /** A pod has started once every app container runs (or it ended): observed once per pod. */
  #observeStart(uid: string, status: PodStatus): void {
    const since = this.#starting.get(uid);
    if (since === undefined) return;
    const ended = status.phase === 'Succeeded' || status.phase === 'Failed';
    const running = status.phase === 'Running' && (status.containerStatuses ?? []).every((c) => c.state.running || c.state.terminated);
    if (!ended && !running) return;
    this.#starting.delete(uid);
    this.options.observer?.podStarted(performance.now() - since);
  }
}
