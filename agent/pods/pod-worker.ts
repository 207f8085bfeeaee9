// One pod on this node: pulls its components, runs init containers in order, then the app
// containers, restarts them by policy with CrashLoopBackOff, stops them on delete, and reports
// every change of status.
import type { Clock, ClockTimer } from '../../api/clock.js';
import { rfc3339 } from '../../api/clock.js';
import type { DesiredPod } from '../../api/mqtt/messages.js';
import type { Container, Pod, PodPhase, PodStatus, RestartPolicy } from '../../api/types/pod.js';
import type { ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { LogBuffer } from '../log-buffer.js';
import type { ConfigLookup } from './config-lookup.js';
import { ContainerConfigError, containerArgv, containerEnv, containerLimits, handlerInstances, type ContainerDefaults } from './container-config.js';
import type { PodVolumes } from './pod-volumes.js';
import { applyEviction, type Eviction } from './pod-eviction.js';
import { startSlotProbes } from './container-probes.js';
import { ContainerSlot } from './container-slot.js';
import type { PodNetwork, PortHolder } from './pod-network.js';
import type { HostPorts } from './host-ports.js';
import type { NodeNetwork } from '../network/node-network.js';
import { PodAttachment } from '../network/pod-attachment.js';
import { backOff, type BackoffContext } from './container-backoff.js';
import { podConditions, podPhase, shouldRestart } from './pod-phase.js';
import { ExecUnavailableError, ImagePullError } from './pod-errors.js';
import { pullSlot } from './slot-pull.js';
import { recordNotStarted } from './not-started.js';

export interface PodEventSink {
  (type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
}

export interface PodWorkerDeps {
  runtime: PodRuntime;
  /** Resolves a container's image to a loaded component; throws ImagePullError with a reason. */
  pullImage(container: Container, desired: DesiredPod, onProgress: (receivedBytes: number, totalBytes: number | undefined) => void): Promise<LoadedComponent>;
  clock: Clock;
  nodeName: string;
  hostIP: string;
  onStatus(status: PodStatus): void;
  onEvent: PodEventSink;
  logBufferBytes?: number;
  /** The pod's volumes (absent: the pod may not declare any). */
  volumes?: PodVolumes;
  /** The node's current ConfigMaps and Secrets. */
  config?: () => ConfigLookup | undefined;
  hostPorts?: HostPorts; // the node's hostPorts (host-ports.ts); absent: not exposed
  /** Limits the node gives containers that set none (the default memory limit). */
  containerDefaults?: ContainerDefaults;
  network?: NodeNetwork; // the node's pod network (agent/network/); absent: outgoing requests are denied
}

export { ExecUnavailableError, ImagePullError } from './pod-errors.js';

/** Waiting containers a newer desired state retries at once: their image or config may be there now. */
const RETRIED_ON_UPDATE = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'ContainerCreating']);

export class PodWorker {
  #desired: DesiredPod;
  readonly #init: ContainerSlot[];
  readonly #app: ContainerSlot[];
  readonly #startTime: string;
  #terminating = false;
  #stopped: Promise<void> | undefined;
  #pending = new Set<ClockTimer>();
  #conditions: PodStatus['conditions'] = [];
  #eviction: Eviction | undefined;
  /** The pod's network namespace, shared by its containers (pod-network.ts), and its place on the node's. */
  readonly #network: PodNetwork;
  readonly #attachment: PodAttachment;

  constructor(desired: DesiredPod, private readonly deps: PodWorkerDeps) {
    this.#desired = desired;
    const spec = this.pod.spec;
    const makeLogs = () => new LogBuffer(deps.logBufferBytes, () => deps.clock.now());
    this.#init = (spec.initContainers ?? []).map((c) => new ContainerSlot(c, true, makeLogs));
    this.#app = spec.containers.map((c) => new ContainerSlot(c, false, makeLogs));
    this.#startTime = rfc3339(deps.clock.now());
    this.#attachment = new PodAttachment(deps.network, () => this.#desired, { onEvent: deps.onEvent, observer: deps.hostPorts?.forPod(this.pod, deps.onEvent), now: () => deps.clock.now() });
    this.#network = this.#attachment.network;
  }

  get pod(): Pod {
    return this.#desired.pod as unknown as Pod;
  }

  get uid(): string {
    return this.pod.metadata.uid!;
  }

  get restartPolicy(): RestartPolicy {
    return this.pod.spec.restartPolicy ?? 'Always';
  }

  /** Starts the pod's containers (init containers first). */
  start(): void {
    this.#report();
    void this.#runInitThenApp();
  }

  /** A newer desired state for this pod: image changes restart the affected containers. */
  update(desired: DesiredPod): void {
    const before = this.pod;
    this.#desired = desired;
    if (!this.#terminating) this.#attachment.refresh();
    for (const slot of [...this.#init, ...this.#app]) {
      const next = [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers].find((c) => c.name === slot.name);
      if (!next) continue;
      const imageChanged = next.image !== slot.spec.image;
      slot.spec = next;
      if (imageChanged && !slot.init && !this.#terminating) {
        this.deps.onEvent('Normal', 'Killing', `Container ${slot.name} definition changed, will be restarted`, slot.fieldPath);
        void slot.running?.stop(this.#graceMs());
      }
      // an image that could not be resolved before may resolve now; a missing ConfigMap/Secret may exist now
      const waiting = slot.state.waiting?.reason;
      if (waiting && RETRIED_ON_UPDATE.has(waiting)) slot.retry();
    }
    if (!before.metadata.deletionTimestamp && this.pod.metadata.deletionTimestamp) void this.terminate(this.#graceMs());
  }

  /** Stops every container (graceful, then killed after `gracePeriodMs`); no restarts after this. */
  terminate(gracePeriodMs: number): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#terminating = true;
    for (const t of this.#pending) t.cancel();
    this.#pending.clear();
    const all = [...this.#init, ...this.#app];
    this.#stopped = Promise.all(all.map(async (slot) => {
      slot.retryNow = undefined;
      if (slot.running) {
        this.deps.onEvent('Normal', 'Killing', `Stopping container ${slot.name}`, slot.fieldPath);
        await slot.running.stop(gracePeriodMs);
        await slot.settled;
      }
      slot.finished = true;
      if (!slot.state.terminated) {
        slot.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container was stopped before it started', finishedAt: rfc3339(this.deps.clock.now()) } };
      }
      slot.logs.close();
    })).then(() => {
      this.#attachment.detach();
      this.#report();
    });
    return this.#stopped;
  }

  get terminating(): boolean {
    return this.#terminating;
  }

  /** Evicted by this node (pod-eviction.ts): its containers are stopped at once; it ends Failed. */
  async evict(message: string): Promise<void> {
    if (this.#terminating) return;
    this.#eviction = { message, at: rfc3339(this.deps.clock.now()) };
    this.deps.onEvent('Warning', 'Evicted', message);
    await this.terminate(0);
  }

  get evicted(): boolean {
    return this.#eviction !== undefined;
  }

  /** The pod's phase now (Succeeded and Failed pods no longer count against the node's resources). */
  get phase(): PodPhase {
    return this.#eviction ? 'Failed' : podPhase(this.#init.map((s) => s.view()), this.#app.map((s) => s.view()));
  }

  /** Containers of this pod running right now (each is one Wasm instance in its own worker). */
  get runningInstances(): number {
    return [...this.#init, ...this.#app].filter((s) => s.running !== undefined).length;
  }

  /** The containers running right now, by name (metrics). */
  get runningContainers(): Array<{ name: string; container: RunningContainer }> {
    return [...this.#init, ...this.#app].flatMap((s) => (s.running ? [{ name: s.name, container: s.running }] : []));
  }

  /** The log buffer of a container (`previous`: of its last terminated run). */
  logs(container: string | undefined, previous: boolean): LogBuffer | undefined {
    const all = [...this.#app, ...this.#init];
    const slot = container ? all.find((s) => s.name === container) : this.#app[0];
    if (!slot) return undefined;
    return previous ? slot.previousLogs : slot.logs;
  }

  get containerNames(): string[] {
    return [...this.#app, ...this.#init].map((s) => s.name);
  }

  status(): PodStatus {
    const views = (slots: ContainerSlot[]) => slots.map((s) => s.view());
    const init = views(this.#init);
    const app = views(this.#app);
    this.#conditions = podConditions(init, app, rfc3339(this.deps.clock.now()), this.#conditions);
    const status: PodStatus = {
      phase: podPhase(init, app),
      conditions: this.#conditions,
      hostIP: this.deps.hostIP,
      startTime: this.#startTime,
      containerStatuses: this.#app.map((s) => s.status()),
    };
    if (this.#init.length) status.initContainerStatuses = this.#init.map((s) => s.status());
    if (this.#desired.podIP) {
      status.podIP = this.#desired.podIP;
      status.podIPs = [{ ip: this.#desired.podIP }];
    }
    return applyEviction(status, this.#eviction);
  }

  #backoffContext(): BackoffContext {
    return {
      clock: this.deps.clock,
      pending: this.#pending,
      onEvent: this.deps.onEvent,
      podRef: `${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
      report: () => this.#report(),
    };
  }

  #report(): void {
    this.deps.onStatus(this.status());
  }

  #graceMs(): number {
    const seconds = this.pod.metadata.deletionGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30;
    return seconds * 1000;
  }

  async #runInitThenApp(): Promise<void> {
    for (const slot of this.#init) {
      if (slot.sidecar) {
        // starts, then keeps running (restarted whatever the pod's policy) beside the next ones
        const loop = this.#keepRunning(slot, 'Always');
        await Promise.race([slot.firstStart(), loop]);
        continue;
      }
      while (!this.#terminating) {
        const exit = await this.#runOnce(slot);
        if (exit === 0) break;
        if (exit !== undefined && this.restartPolicy === 'Never') {
          slot.finished = true;
          this.#report();
          for (const s of this.#app) {
            s.finished = true;
            s.state = { waiting: { reason: 'PodInitializing' } };
          }
          this.#report();
          return;
        }
        await backOff(slot, this.#backoffContext());
      }
      slot.finished = true;
      this.#report();
    }
    if (this.#terminating) return;
    await Promise.all(this.#app.map((slot) => this.#keepRunning(slot)));
    // every app container is done for good: its sidecars go too (as the kubelet stops them)
    for (const slot of this.#init.filter((s) => s.sidecar)) {
      slot.sidecarDone = true;
      slot.retryNow?.();
      await slot.running?.stop(this.#graceMs());
    }
  }

  async #keepRunning(slot: ContainerSlot, policy: RestartPolicy = this.restartPolicy): Promise<void> {
    while (!this.#terminating && !slot.sidecarDone) {
      const exit = await this.#runOnce(slot);
      if (this.#terminating || slot.sidecarDone) {
        slot.finished = true;
        break;
      }
      // a container that never started (image/config error) is retried whatever the policy
      // a container killed by a probe failed, whatever code it ended with
      if (exit !== undefined && !shouldRestart(policy, slot.probeKilled ? exit || 1 : exit)) {
        slot.finished = true;
        this.#report();
        return;
      }
      await backOff(slot, this.#backoffContext());
    }
  }

  /** Runs the container once; resolves with its exit code (undefined if it never started). */
  async #runOnce(slot: ContainerSlot): Promise<number | undefined> {
    let component: LoadedComponent;
    let spec: ContainerSpec;
    try {
      component = await this.#pull(slot);
      if (this.#terminating) return undefined;
      if (this.pod.spec.volumes?.length && !this.deps.volumes) throw new ContainerConfigError('this agent cannot mount volumes (no data dir)');
      await this.deps.volumes?.prepare();
      spec = {
        ...this.#instanceSpec(slot, component, `${this.uid}/${slot.name}/${slot.restartCount}`),
        ...(slot.spec['stdin'] === true ? { interactiveStdin: true } : {}),
        onOutput: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => {
          slot.logs.write(stream, Buffer.from(chunk).toString('utf8'));
          for (const listener of slot.attached) listener(stream, chunk);
        },
      };
    } catch (error) {
      return this.#notStarted(slot, error);
    }
    slot.beginRun();
    const running = await this.deps.runtime.start(spec).catch((error: unknown) => error as Error);
    if (running instanceof Error) {
      slot.state = { terminated: { exitCode: 128, reason: 'StartError', message: running.message, finishedAt: rfc3339(this.deps.clock.now()) } };
      this.deps.onEvent('Warning', 'Failed', `Error: ${running.message}`, slot.fieldPath);
      slot.endRun();
      this.#report();
      return 128;
    }
    slot.running = running;
    this.deps.onEvent('Normal', 'Created', `Created container ${slot.name}`, slot.fieldPath);
    if (running.handleHttp) this.#network.serveHttp(spec.id, slot.spec, (request, ms) => running.handleHttp!(request, ms), slot.fieldPath);
    slot.state = { running: { startedAt: rfc3339(running.startedAt.getTime()) } };
    this.#startProbes(slot, running, spec);
    slot.markStarted();
    this.deps.onEvent('Normal', 'Started', `Started container ${slot.name}`, slot.fieldPath);
    this.#report();
    const exit = await running.exited;
    this.#network.release(spec.id);
    slot.recordExit(exit);
    if (exit.reason !== 'Completed' && exit.reason !== 'Killed') {
      this.deps.onEvent('Warning', exit.reason === 'Error' ? 'Failed' : exit.reason, `Container ${slot.name} exited with code ${exit.exitCode}${exit.message ? `: ${exit.message}` : ''}`, slot.fieldPath);
    }
    slot.endRun();
    this.#report();
    return exit.exitCode;
  }

  /** An instance of a container's component in the pod's context: its env, argv, limits, volumes. */
  #instanceSpec(slot: ContainerSlot, component: LoadedComponent, id: string): ContainerSpec {
    const env = containerEnv(this.pod, slot.spec, { nodeName: this.deps.nodeName, podIP: this.#desired.podIP, hostIP: this.deps.hostIP, config: this.deps.config?.(), services: this.#attachment.serviceEnv() });
    const instances = handlerInstances(this.pod);
    return {
      id,
      ...(instances ? { handlerInstances: instances } : {}),
      component,
      args: containerArgv(slot.spec, env),
      env,
      limits: containerLimits(this.pod, slot.spec, this.deps.containerDefaults),
      preopens: this.deps.volumes?.preopens(slot.spec) ?? [],
      network: this.#network.ports(id, slot.name, slot.fieldPath),
    };
  }

  /**
   * `kubectl exec`: a one-shot instance of a container's component in the pod's context, with
   * `command` as argv. The container itself need not be running (it may be between restarts),
   * only its component pulled. Throws ExecUnavailableError when it cannot run.
   */
  execSpec(container: string | undefined, command: string[], id: string): ContainerSpec {
    const slot = this.#slotFor(container);
    if (this.#terminating) throw new ExecUnavailableError(400, `pod ${this.pod.metadata.name} is terminating`);
    if (!slot.component) throw new ExecUnavailableError(400, `container ${slot.name} has not been created yet (${slot.state.waiting?.reason ?? 'waiting'})`);
    return { ...this.#instanceSpec(slot, slot.component, id), args: command };
  }

  /**
   * `kubectl attach`: the container's current run (its stdin is there when the spec asks for
   * `stdin: true`) and the slot whose `attached` listeners see its output. Throws ExecUnavailableError.
   */
  attachTarget(container: string | undefined): { running: RunningContainer; slot: ContainerSlot; stdinOnce: boolean } {
    const slot = this.#slotFor(container);
    if (!slot.running) throw new ExecUnavailableError(400, `container ${slot.name} is not running (${slot.state.waiting?.reason ?? (slot.state.terminated ? 'terminated' : 'waiting')})`);
    return { running: slot.running, slot, stdinOnce: slot.spec['stdinOnce'] === true };
  }

  /** The pod's network namespace (port-forward opens its byte streams there). */
  get podNetwork(): PodNetwork {
    return this.#network;
  }

  #slotFor(container: string | undefined): ContainerSlot {
    const slot = container ? [...this.#app, ...this.#init].find((s) => s.name === container) : this.#app[0];
    if (!slot) throw new ExecUnavailableError(400, `container ${container} is not valid for pod ${this.pod.metadata.name}`);
    return slot;
  }

  /** Probes of app containers and sidecars (the kubelet runs none on plain init containers). */
  #startProbes(slot: ContainerSlot, running: RunningContainer, instance: ContainerSpec): void {
    startSlotProbes(slot, running, instance, {
      runtime: this.deps.runtime,
      network: this.#network,
      clock: this.deps.clock,
      report: () => this.#report(),
      graceMs: () => this.#graceMs(),
      onEvent: this.deps.onEvent,
    });
  }

  #pull(slot: ContainerSlot): Promise<LoadedComponent> {
    return pullSlot(slot, this.#desired, this.deps, () => this.#report());
  }

  /** A container that could not start: image or configuration errors wait for a retry. */
  #notStarted(slot: ContainerSlot, error: unknown): undefined {
    recordNotStarted(slot, error, this.deps.onEvent);
    this.#report();
    return undefined;
  }
}
