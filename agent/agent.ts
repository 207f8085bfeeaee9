// The node agent: joins over its AgentChannel, renews its lease, applies desired state through the
// PodManager, reports node and pod status, and answers requests (logs) from the control plane.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../api/clock.js';
import { microTime, rfc3339 } from '../api/clock.js';
import type { CpPresenceMessage, DesiredStateMessage } from '../api/mqtt/messages.js';
import type { Condition } from '../api/types/meta.js';
import type { PodRuntime } from '../runtime/pod-runtime.js';
import type { AgentChannel, RpcReply } from './agent-channel.js';
import type { ComponentFetcher } from './component-fetcher.js';
import { describeNode, type NodeSnapshot } from './node-info.js';
import { PodManager } from './pods/pod-manager.js';
import { serveLogs, type LogsParams } from './rpc/logs-rpc.js';

export interface AgentOptions {
  node: string;
  channel: AgentChannel;
  runtime: PodRuntime;
  fetcher: ComponentFetcher;
  clock: Clock;
  logger: Logger;
  labels?: Record<string, string>;
  nodeIP?: string;
  maxPods?: number;
  bootId?: string;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  fuelPerSecond?: number;
}

export class Agent {
  readonly pods: PodManager;
  readonly #snapshot: NodeSnapshot;
  #leaseTimer: ClockTimer | undefined;
  #cpEpoch: string | undefined;
  #readySince: string;
  #stopped = false;

  constructor(private readonly options: AgentOptions) {
    const nodeIP = options.nodeIP ?? '127.0.0.1';
    this.#snapshot = describeNode({
      node: options.node,
      labels: options.labels ?? {},
      nodeIP,
      maxPods: options.maxPods ?? 110,
      bootId: options.bootId ?? randomUUID(),
      ...(options.fuelPerSecond ? { fuelPerSecond: options.fuelPerSecond } : {}),
    });
    this.#readySince = rfc3339(options.clock.now());
    const channel = options.channel;
    this.pods = new PodManager({
      runtime: options.runtime,
      fetcher: options.fetcher,
      clock: options.clock,
      nodeName: options.node,
      hostIP: nodeIP,
      reporter: {
        podStatus: (m) => void channel.publishPodStatus(m).catch((e: Error) => this.#dropped('pod status', e)),
        event: (m) => void channel.publishEvent(m).catch((e: Error) => this.#dropped('event', e)),
      },
    });
  }

  async start(): Promise<void> {
    await this.options.channel.connect({
      desired: (m) => this.#onDesired(m),
      rpc: (method, params, reply) => this.#onRpc(method, params, reply),
      cpPresence: (m) => this.#onCpPresence(m),
      connected: () => this.#onConnected(),
      disconnected: () => this.options.logger.warn('disconnected from the control plane; pods keep running'),
    });
    this.#leaseTimer = this.options.clock.setInterval(() => this.#renewLease(), this.options.leaseRenewIntervalMs ?? 10_000);
  }

  /** Stops every pod, says goodbye to the control plane, and closes the runtime (the agent owns it). */
  async stop(gracePeriodMs = 5_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#leaseTimer?.cancel();
    await this.pods.stopAll(gracePeriodMs);
    await this.options.channel.close();
    this.options.fetcher.close();
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
    if (this.pods.apply(message)) {
      this.options.logger.info({ generation: message.generation, pods: message.pods.length }, 'applied desired state');
      this.#publishNodeStatus();
    }
  }

  #onCpPresence(message: CpPresenceMessage): void {
    if (message.caCert) this.options.fetcher.setCaCert(message.caCert);
    if (message.online && message.epoch !== this.#cpEpoch) {
      const first = this.#cpEpoch === undefined;
      this.#cpEpoch = message.epoch;
      // a restarted control plane may have missed what we sent while it was away
      if (!first) this.#onConnected();
    }
  }

  #onRpc(method: string, params: Record<string, unknown>, reply: RpcReply): void {
    switch (method) {
      case 'logs':
        serveLogs(this.pods, params as unknown as LogsParams, reply, () => this.options.clock.now());
        return;
      default:
        reply.error(501, `method ${method} is not supported by this agent`);
    }
  }

  #publishNodeStatus(): void {
    const heartbeat = rfc3339(this.options.clock.now());
    const condition = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
      type, status, reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: this.#readySince,
    });
    void this.options.channel.publishNodeStatus({
      ...this.#snapshot,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'agent has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'agent has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'agent has sufficient instance slots available'),
        condition('Ready', 'True', 'KubeletReady', 'skiff agent is posting ready status'),
      ],
      observedGeneration: this.pods.appliedGeneration,
    }).catch((e: Error) => this.#dropped('node status', e));
  }

  #renewLease(): void {
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
