// The node agent: joins over its AgentChannel, renews its lease, applies desired state through the
// PodManager, reports node and pod status, and answers requests (logs) from the control plane.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { microTime, rfc3339, type ClockTimer } from '../api/clock.js';
import type { CpPresenceMessage, DesiredStateMessage } from '../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../api/mqtt/desired-parts.js';
import { AppliedParts } from './state/applied-parts.js';
import type { Condition } from '../api/types/meta.js';
import type { RpcReply } from './agent-channel.js';
import { pressure, sampleHost, type Pressure } from './node-conditions.js';
import { describeNode, FUEL_CAPACITY, type NodeSnapshot } from './node-info.js';
import { AgentMetrics } from './agent-metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { PodMetricsReporter } from './pod-metrics-reporter.js';
import { PodManager } from './pods/pod-manager.js';
import { HostPorts } from './pods/host-ports.js';
import { NodeNetwork } from './network/node-network.js';
import type { NodeMesh } from './network/mesh.js';
import { serveRelay } from './network/relay-server.js';
import { serveRelayUdp } from './network/relay-udp-server.js';
import { serveRelayStream } from './network/relay-stream-server.js';
import { NodePorts } from './network/node-ports.js';
import { NodeIngress } from './network/node-ingress.js';
import { serveAttach, type AttachParams } from './rpc/attach-rpc.js';
import { serveExec, type ExecParams } from './rpc/exec-rpc.js';
import { servePortForward, type PortForwardParams } from './rpc/port-forward-rpc.js';
import { serveLogs, type LogsParams } from './rpc/logs-rpc.js';
import { serveMetrics } from './rpc/metrics-rpc.js';
import { memoryDir, volumeHost } from './volume-host.js';
import type { AgentOptions } from './agent-options.js';

/** How long a pods message waits for the Services part before its pods start without their variables. */
export const SERVICES_WAIT_MS = 5_000;

export type { AgentOptions } from './agent-options.js';

/** Measuring fuel per second stalls the agent's thread ~0.3 s: not while its first pods start. */
export const FUEL_CALIBRATION_DELAY_MS = 5_000;

export class Agent {
  readonly pods: PodManager;
  /** The pods' hostPorts served on this node (host-ports.ts). */
  readonly hostPorts: HostPorts;
  /**
   * The node's pod network (network/node-network.ts): pods by IP, Services. Its `requestToPod` is
   * the one way in to a pod's port from the agent itself (port-forward, proxies).
   */
  readonly network = new NodeNetwork();
  /** The tunnel and relay to other nodes' pods, when the agent has them. */
  get mesh(): NodeMesh | undefined {
    return this.options.mesh;
  }
  /** NodePorts and LoadBalancer ports served on the node IP (network/node-ports.ts). */
  readonly nodePorts: NodePorts;
  /** Ingress served on the node IP (`--ingress-port`: network/node-ingress.ts, decision 075). */
  readonly ingress: NodeIngress | undefined;
  /** Prometheus metrics (the `metrics` rpc, and the local listener when asked for). */
  readonly metrics: AgentMetrics;
  readonly #metrics: PodMetricsReporter;
  #metricsServer: MetricsServer | undefined;
  readonly #snapshot: NodeSnapshot;
  #leaseTimer: ClockTimer | undefined;
  #calibrationTimer: ClockTimer | undefined;
  #hasPods = false;
  /** Whether the Services were read at least once (a Services part, a whole message, or the persisted state). */
  #servicesKnown = false;
  #heldDesired: DesiredStateMessage | undefined;
  #heldTimer: ClockTimer | undefined;
  #cpEpoch: string | undefined;
  #readySince: string;
  #pressure: Pressure = { memory: false, pid: false };
  #pressureSince: Record<keyof Pressure, string>;
  #stopped = false;
  /** The parts of the desired state from their own topics (Services, peers, policies: decision 057). */
  readonly desiredParts = new AppliedParts();

  constructor(private readonly options: AgentOptions) {
    const nodeIP = options.nodeIP ?? '127.0.0.1';
    if (options.egress) this.network.egress.configure(options.egress);
    this.#snapshot = describeNode({
      node: options.node,
      labels: options.labels ?? {},
      nodeIP,
      maxPods: options.maxPods ?? 110,
      bootId: options.bootId ?? randomUUID(),
      ...(options.fuelPerSecond ? { fuelPerSecond: options.fuelPerSecond } : {}),
      ...(options.allocatableMemoryBytes !== undefined ? { allocatableMemoryBytes: options.allocatableMemoryBytes } : {}),
    });
    this.#readySince = rfc3339(options.clock.now());
    this.#pressureSince = { memory: this.#readySince, pid: this.#readySince };
    const channel = options.channel;
    this.metrics = new AgentMetrics({
      pods: () => this.pods.workers,
      fuelPerSecond: () => options.fuelPerSecond ?? options.runtime.fuelPerSecond,
    });
    this.hostPorts = new HostPorts({
      address: options.hostPortAddress ?? nodeIP,
      clock: options.clock,
      ...(options.hostPortRequestTimeoutMs ? { requestTimeoutMs: options.hostPortRequestTimeoutMs } : {}),
    });
    this.nodePorts = new NodePorts({
      address: nodeIP, network: this.network, clock: options.clock, logger: options.logger, onUnservedChange: () => this.#publishNodeStatus(),
      ...(options.hostPortRequestTimeoutMs ? { requestTimeoutMs: options.hostPortRequestTimeoutMs } : {}),
    });
    this.ingress = options.ingress && new NodeIngress({ ...options.ingress, address: nodeIP, network: this.network, clock: options.clock, logger: options.logger });
    this.pods = new PodManager({
      hostPorts: this.hostPorts,
      network: this.network,
      runtime: options.runtime,
      fetcher: options.fetcher,
      clock: options.clock,
      nodeName: options.node,
      hostIP: nodeIP,
      onStateChange: () => this.#persist(),
      ...(options.allocatableMemoryBytes !== undefined ? { allocatableMemoryBytes: options.allocatableMemoryBytes } : {}),
      ...(options.defaultMemoryLimitBytes !== undefined ? { containerDefaults: { memoryLimitBytes: options.defaultMemoryLimitBytes } } : {}),
      observer: this.metrics.pods,
      ...(options.dataDir ? { volumeHost: volumeHost(options, options.dataDir) } : {}),
      reporter: {
        podStatus: (m) => void channel.publishPodStatus(m).catch((e: Error) => this.#dropped('pod status', e)),
        event: (m) => void channel.publishEvent(m).catch((e: Error) => this.#dropped('event', e)),
      },
    });
    this.#metrics = new PodMetricsReporter({
      clock: options.clock,
      pods: () => this.pods.workers,
      fuelPerSecond: () => options.fuelPerSecond ?? options.runtime.fuelPerSecond,
      // usage is only worth sending live: a report lost offline is replaced by the next one
      publish: (m) => {
        if (channel.isConnected) void channel.publishMetrics?.(m).catch((e: Error) => this.#dropped('metrics', e));
      },
      ...(options.metricsIntervalMs ? { intervalMs: options.metricsIntervalMs } : {}),
    });
  }

  /**
   * Runs the persisted pods at once (if any), then connects. With persisted pods the agent does not
   * wait for its control plane (edge autonomy: it may be unreachable for hours); without, it does.
   */
  async start(): Promise<void> {
    if (this.options.metricsServer) this.#metricsServer = await startMetricsServer(this.metrics, this.options.metricsServer);
    if (this.options.mesh) {
      this.options.mesh.onListening = () => this.#publishNodeStatus();
      await this.options.mesh.start(this.network);
    }
    await this.ingress?.start();
    const persisted = await this.#restore();
    const connected = this.options.channel.connect({
      desired: (m) => this.#onDesired(m),
      desiredPart: (m) => this.#onDesiredPart(m),
      rpc: (method, params, reply) => this.#onRpc(method, params, reply),
      cpPresence: (m) => this.#onCpPresence(m),
      connected: () => {
        this.metrics.connected();
        this.#onConnected();
      },
      disconnected: () => {
        this.metrics.disconnected();
        this.options.logger.warn('disconnected from the control plane; pods keep running');
      },
    });
    this.#leaseTimer = this.options.clock.setInterval(() => this.#renewLease(), this.options.leaseRenewIntervalMs ?? 10_000);
    this.#metrics.start();
    if (!persisted) return connected;
    connected.catch((e: Error) => this.options.logger.warn({ err: e.message }, 'agent channel did not connect'));
  }

  /** Resolves when the applied desired state is on disk (tests, orderly shutdown). */
  async persisted(): Promise<void> {
    await this.options.stateFile?.flushed();
  }

  async #restore(): Promise<boolean> {
    const file = this.options.stateFile;
    if (!file) return false;
    try {
      const state = await file.load();
      if (!state || state.desired.node !== this.options.node) return false;
      this.pods.restore(state);
      this.ingress?.set(state.desired.ingress);
      this.#servicesKnown = state.desired.services !== undefined;
      this.#notePods(state.desired.pods);
      this.options.logger.info({ generation: state.desired.generation, pods: state.desired.pods.length }, 'running the persisted desired state');
      return true;
    } catch (error) {
      this.options.logger.error({ err: (error as Error).message }, 'persisted desired state unusable; waiting for the control plane');
      return false;
    }
  }

  #persist(): void {
    const file = this.options.stateFile;
    const { desired, finished } = this.pods.state();
    if (!file || !desired) return;
    // Secrets never touch the disk: a restart while offline waits for them (CreateContainerConfigError).
    // The parts from their own topics are saved with the pods: an offline restart has its routes.
    const { secrets: _secrets, ingress, ...withoutSecrets } = this.desiredParts.merge(desired);
    const routes = ingress ? { ingress: { ingresses: ingress.ingresses } } : {}; // TLS keys neither
    file.save({ desired: { ...withoutSecrets, ...routes }, finished: finished as Record<string, Record<string, unknown>> })
      .catch((e: Error) => this.options.logger.warn({ err: e.message }, 'could not persist the desired state'));
  }

  /** Stops every pod, says goodbye to the control plane, and closes the runtime (the agent owns it). */
  async stop(gracePeriodMs = 5_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#leaseTimer?.cancel();
    this.#calibrationTimer?.cancel();
    this.#heldTimer?.cancel();
    this.#metrics.stop();
    await this.options.stateFile?.flushed().catch(() => undefined);
    await this.nodePorts.close();
    await this.ingress?.close();
    await this.pods.stopAll(gracePeriodMs);
    await this.hostPorts.close();
    await this.options.mesh?.close();
    await this.#metricsServer?.close();
    // secrets and Memory volumes do not outlive the agent
    if (this.options.dataDir) await rm(memoryDir(this.options, this.options.dataDir), { recursive: true, force: true, maxRetries: 3 });
    await this.options.channel.close();
    this.options.fetcher.close();
    this.options.serviceAccountTokens?.close?.();
    await this.options.runtime.close();
  }

  #onConnected(): void {
    this.options.logger.info({ node: this.options.node }, 'connected to the control plane');
    this.#publishNodeStatus();
    this.pods.republish();
    this.#renewLease();
  }

  #onDesired(message: DesiredStateMessage): void {
    if (message.node !== this.options.node) return;
    // As the kubelet refuses to build a container's environment before it has read the Services once,
    // a pods message whose Services travel on their own topic waits for them (bounded: then it runs).
    if (message.parts?.includes('services') && !this.#servicesKnown) {
      this.#heldDesired = message;
      this.#heldTimer ??= this.options.clock.setTimeout(() => {
        this.options.logger.warn({ generation: this.#heldDesired?.generation }, 'no Services part yet; starting pods without Service environment variables');
        this.#servicesKnown = true;
        this.#releaseHeldDesired();
      }, SERVICES_WAIT_MS);
      return;
    }
    if (!message.parts?.includes('services')) this.#servicesKnown = true; // carried in the message itself
    this.#applyDesired(message);
  }

  #releaseHeldDesired(): void {
    this.#heldTimer?.cancel();
    this.#heldTimer = undefined;
    const held = this.#heldDesired;
    this.#heldDesired = undefined;
    if (held && !this.#stopped) this.#applyDesired(held);
  }

  #applyDesired(message: DesiredStateMessage): void {
    if (this.pods.apply(message)) {
      this.ingress?.set(message.ingress);
      this.options.logger.info({ generation: message.generation, pods: message.pods.length }, 'applied desired state');
      this.#notePods(message.pods);
      this.#publishNodeStatus();
    }
  }

  /** A part of the desired state from its own topic: applied to the pod network when it is new. */
  #onDesiredPart(part: DesiredPartMessage): void {
    if (part.part === 'policies' && part.node !== this.options.node) return;
    if (!this.desiredParts.accept(part)) return;
    if (part.part === 'services') {
      this.network.setServices(part.services);
      this.#servicesKnown = true;
    }
    else if (part.part === 'peers') this.network.setPeers(part.peers.filter((p) => p.node !== this.options.node)); // the list is the cluster's
    else this.network.policies.set(part.networkPolicies);
    this.options.logger.info({ part: part.part, generation: part.generation }, 'applied desired-state part');
    this.#persist();
    if (this.#servicesKnown) this.#releaseHeldDesired();
  }

  #notePods(pods: DesiredStateMessage['pods']): void {
    const hasPods = pods.some((p) => !p.finished);
    if (hasPods === this.#hasPods) return;
    this.#hasPods = hasPods;
    try {
      this.options.onPodsDesired?.(hasPods);
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'onPodsDesired failed');
    }
    if (hasPods && !this.#snapshot.capacity[FUEL_CAPACITY] && !this.#calibrationTimer) {
      this.#calibrationTimer = this.options.clock.setTimeout(() => this.#addFuelCapacity(), FUEL_CALIBRATION_DELAY_MS);
    }
  }

  #addFuelCapacity(): void {
    const fuelPerSecond = this.options.runtime.fuelPerSecond; // measured once by the runtime, shared with cpu limits
    if (!fuelPerSecond || this.#stopped) return;
    this.#snapshot.capacity[FUEL_CAPACITY] = this.#snapshot.allocatable[FUEL_CAPACITY] = String(Math.round(fuelPerSecond));
    this.#publishNodeStatus();
  }

  #onCpPresence(message: CpPresenceMessage): void {
    if (message.caCert) this.options.fetcher.setCaCert(message.caCert);
    if (message.online && message.registryUrl) this.options.mesh?.controlPlane({ url: message.registryUrl, caCert: message.caCert });
    if (message.online && message.registryUrl) this.options.serviceAccountTokens?.setServer?.(message.registryUrl, message.caCert);
    if (message.registryUrl) this.network.egress.setApiServer(message.registryUrl, message.caCert); // the API: the kubernetes Service
    if (message.online && message.epoch !== this.#cpEpoch) {
      const first = this.#cpEpoch === undefined;
      this.#cpEpoch = message.epoch;
      // a restarted control plane may have missed what we sent while it was away
      if (!first) this.#onConnected();
    }
  }

  #onRpc(method: string, params: Record<string, unknown>, reply: RpcReply): void {
    switch (method) {
      case 'logs': return void serveLogs(this.pods, params as unknown as LogsParams, reply, () => this.options.clock.now());
      case 'metrics': return void serveMetrics(this.metrics, reply).catch((error: Error) => reply.error(500, error.message));
      case 'exec': return void serveExec(this.pods, this.options.runtime, params as unknown as ExecParams, reply)
          .catch((error: Error) => reply.error(500, error.message));
      case 'portforward': return void servePortForward(this.pods, params as unknown as PortForwardParams, reply, this.options.clock);
      case 'attach': return void serveAttach(this.pods, params as unknown as AttachParams, reply).catch((error: Error) => reply.error(500, error.message));
      case 'relay': return void serveRelay(this.network, params, reply);
      case 'tcp': return void serveRelayStream(this.network, params, reply);
      case 'udp': return void serveRelayUdp(this.network.udp, params, reply);
      default:
        reply.error(501, `method ${method} is not supported by this agent`);
    }
  }

  #publishNodeStatus(): void {
    const heartbeat = rfc3339(this.options.clock.now());
    const condition = (type: string, status: Condition['status'], reason: string, message: string, since = this.#readySince): Condition => ({
      type, status, reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: since,
    });
    const { memory, pid } = this.#pressure;
    void this.options.channel.publishNodeStatus({
      ...this.#snapshot,
      conditions: [
        memory
          ? condition('MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'device free memory is below the threshold', this.#pressureSince.memory)
          : condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'agent has sufficient memory available', this.#pressureSince.memory),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'agent has no disk pressure'),
        pid
          ? condition('PIDPressure', 'True', 'KubeletHasInsufficientPID', 'running Wasm instances reached the node limit', this.#pressureSince.pid)
          : condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'agent has sufficient instance slots available', this.#pressureSince.pid),
        condition('Ready', 'True', 'KubeletReady', 'skiff agent is posting ready status'),
      ],
      observedGeneration: this.pods.appliedGeneration,
      ...(this.options.mesh?.port ? { tunnelPort: this.options.mesh.port } : {}),
      ...(this.nodePorts.unserved.length ? { unservedPorts: this.nodePorts.unserved.slice(0, 256) } : {}),
      ...(this.ingress?.ports ? { ingressPorts: this.ingress.ports } : {}),
    }).catch((e: Error) => this.#dropped('node status', e));
  }

  /** Samples memory and instance counts; sends node status when a pressure condition flips. */
  checkPressure(): void {
    let running = 0;
    for (const worker of this.pods.workers) running += worker.runningInstances;
    const sample = (this.options.sampleHost ?? sampleHost)(running);
    const next = pressure(sample, {
      maxInstances: this.options.maxInstances ?? (this.options.maxPods ?? 110) * 4,
      ...(this.options.minFreeMemoryBytes !== undefined ? { minFreeMemoryBytes: this.options.minFreeMemoryBytes } : {}),
    });
    const now = rfc3339(this.options.clock.now());
    let changed = false;
    for (const key of ['memory', 'pid'] as const) {
      if (next[key] === this.#pressure[key]) continue;
      this.#pressureSince[key] = now;
      changed = true;
    }
    this.#pressure = next;
    if (changed) this.#publishNodeStatus();
  }

  #renewLease(): void {
    this.checkPressure();
    if (!this.options.channel.isConnected) return;
    void this.options.channel.publishLease({
      renewTime: microTime(this.options.clock.now()),
      leaseDurationSeconds: this.options.leaseDurationSeconds ?? 40,
    }).catch((e: Error) => this.#dropped('lease', e));
  }

  #dropped(what: string, error: Error): void {
    this.options.logger.debug({ err: error.message }, `could not send ${what}`);
  }
}
