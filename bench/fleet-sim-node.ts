// One simulated agent of the fleet benchmark: a real MQTT client speaking the node protocol
// (credential exchange, birth, node status, leases, Will) and a minimal kubelet: it applies the
// retained desired state it receives and reports each pod Running, or removed once it is deleted,
// in the shape the real agent's pod status messages have (agent/pods/pod-worker.ts), without
// running anything. Cheap enough for a thousand of them in one process.
// Its session is kept as a real agent keeps its own (agent/mqtt-agent-channel.ts): a clean session
// per connection; after a close, a new one after agent/mqtt-reconnect-backoff.ts's delays; on each
// connect subscribe -> presence (retained) -> node status, every pod's last status and a lease
// (agent.ts #onConnected). Disconnects and reconnects are counted, so a run that had them says so.
import mqtt, { type MqttClient } from 'mqtt';
import { defaultBackoff, reconnectDelayMs } from '../agent/mqtt-reconnect-backoff.js';
import { microTime, rfc3339 } from '../api/clock.js';
import { PROTOCOL_VERSION, type DesiredStateMessage } from '../api/mqtt/messages.js';
import { agentSubscriptions, topics } from '../api/mqtt/topics.js';

export interface SimNodeOptions {
  name: string;
  mqttUrl: string;
  credential: string;
  /** Extra node labels (e.g. topology.kubernetes.io/zone). */
  labels?: Record<string, string>;
  onError: (error: Error) => void;
  /** Reconnect delays (default the agent's: 0.5 s doubling to 30 s, jittered). */
  backoff?: { initialMs: number; maxMs: number };
}

const CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

/** What a pod's last report said, sent again after a reconnect (as the agent's PodManager.republish). */
interface Report { state: 'Running' | 'removed'; message: object }

export class SimNode {
  readonly sessionId: string;
  leasesSent = 0;
  /** Pod status messages sent (Running and removed), republished ones included. */
  podReports = 0;
  /** Desired-state messages received, and their bytes. */
  desiredMessages = 0;
  desiredBytes = 0;
  /** Sessions that closed after they were set up (not by stop() or vanish()). */
  disconnects = 0;
  /** Sessions set up again after a disconnect. */
  reconnects = 0;
  /** Connection attempts after a disconnect (failed ones included). */
  reconnectAttempts = 0;
  client: MqttClient;
  #seq = 0;
  #generation = -1;
  #timer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #isReady = false;
  #isEnded = false;
  /** Bytes of the connections already closed (`bytes` counts every connection). */
  #closedBytes = 0;
  /** uid -> what was reported last. */
  readonly #reported = new Map<string, Report>();

  private constructor(readonly name: string, readonly options: SimNodeOptions, readonly labels: Record<string, string> = {}) {
    this.sessionId = `s-${name}`;
    this.client = this.#dial();
  }

  /** Connects and sets up the first session; rejects if that connection fails (the caller retries it). */
  static join(o: SimNodeOptions): Promise<SimNode> {
    return new Promise((resolve, reject) => {
      const sim = new SimNode(o.name, o, o.labels);
      sim.#first = { resolve: () => resolve(sim), reject };
    });
  }

  #first: { resolve(): void; reject(error: Error): void } | undefined;

  get isConnected(): boolean {
    return this.#isReady;
  }

  /** Renews the lease every `intervalMs`, the first time after `firstInMs` (while connected, as the agent's offline publish fails). */
  renewLeases(intervalMs: number, firstInMs: number): void {
    this.#timer = setTimeout(() => {
      this.#renew();
      this.#timer = setInterval(() => this.#renew(), intervalMs);
    }, firstInMs);
  }

  get bytes(): number {
    return this.#closedBytes + streamBytes(this.client);
  }

  /** Pods this node reports Running now. */
  get runningPods(): number {
    let n = 0;
    for (const report of this.#reported.values()) if (report.state === 'Running') n++;
    return n;
  }

  /** The device vanishes: the socket closes without DISCONNECT, so the broker publishes the Will; it does not come back. */
  vanish(): void {
    this.#end();
    (this.client.stream as unknown as { destroy(): void }).destroy();
  }

  stop(): void {
    this.#end();
    this.client.end(true);
  }

  #end(): void {
    this.#isEnded = true;
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    clearTimeout(this.#reconnectTimer);
  }

  #dial(): MqttClient {
    const o = this.options;
    const client = mqtt.connect(o.mqttUrl, {
      protocolVersion: 4, clientId: o.name, username: o.name, password: o.credential, clean: true, keepalive: 30,
      // backoff is ours, as the agent's; connectTimeout longer than the agent's 10 s: a starved broker is the bench's load
      reconnectPeriod: 0, resubscribe: false, queueQoSZero: false, connectTimeout: 90_000,
      will: { topic: topics.presence(o.name), payload: Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, sessionId: this.sessionId, online: false, node: o.name })), qos: 1, retain: true },
    });
    client.on('error', o.onError);
    client.on('message', (topic, payload) => {
      if (client !== this.client || topic !== topics.desired(o.name) || payload.length === 0) return;
      this.desiredMessages++;
      this.desiredBytes += payload.length;
      this.#apply(JSON.parse(payload.toString('utf8')) as DesiredStateMessage);
    });
    client.on('connect', () => {
      this.#onConnect(client).catch((error: Error) => {
        o.onError(new Error(`session setup failed: ${error.message}`));
        client.end(true); // its close schedules the next attempt
      });
    });
    client.once('close', () => this.#onClose(client));
    return client;
  }

  async #onConnect(client: MqttClient): Promise<void> {
    await client.subscribeAsync(agentSubscriptions(this.name), { qos: 1 });
    await client.publishAsync(topics.presence(this.name), JSON.stringify({ v: PROTOCOL_VERSION, sessionId: this.sessionId, online: true, node: this.name, ts: Date.now() }), { qos: 1, retain: true });
    if (client !== this.client || !client.connected || this.#isEnded) return;
    this.#isReady = true;
    this.#attempt = 0;
    this.#publish(topics.status(this.name), this.#nodeStatus(), 1);
    if (this.#first) {
      this.#first.resolve();
      this.#first = undefined;
      return;
    }
    this.reconnects++;
    // as the agent's connected(): what it reported may not have arrived; the lease at once
    for (const [uid, report] of this.#reported) this.#publishPodStatus(uid, report.message);
    this.#renew();
  }

  #onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.#closedBytes += streamBytes(client);
    const wasReady = this.#isReady;
    this.#isReady = false;
    client.end(true);
    if (this.#first) {
      this.#first.reject(new Error(`${this.name}: connection closed before the session was set up`));
      this.#first = undefined;
      this.#isEnded = true; // the caller tries again with a new SimNode
      return;
    }
    if (this.#isEnded) return;
    if (wasReady) this.disconnects++;
    const delayMs = reconnectDelayMs(this.#attempt++, this.options.backoff ?? defaultBackoff);
    this.#reconnectTimer = setTimeout(() => {
      if (this.#isEnded) return;
      this.reconnectAttempts++;
      this.client = this.#dial();
    }, delayMs);
  }

  #renew(): void {
    if (!this.#isReady) return;
    this.leasesSent++;
    this.#publish(topics.lease(this.name), { renewTime: microTime(Date.now()), leaseDurationSeconds: 40 }, 0);
  }

  #apply(desired: DesiredStateMessage): void {
    if (desired.generation <= this.#generation) return;
    this.#generation = desired.generation;
    const now = rfc3339(Date.now());
    const present = new Set<string>();
    for (const { pod, podIP, finished } of desired.pods) {
      const { uid, name, namespace } = pod.metadata;
      present.add(uid);
      if (finished) continue;
      if (pod.metadata['deletionTimestamp']) {
        if (this.#reported.get(uid)?.state === 'removed') continue;
        this.#report(uid, 'removed', { uid, name, namespace, removed: true, status: { phase: 'Succeeded', hostIP: '127.0.0.1' } });
        continue;
      }
      if (this.#reported.has(uid)) continue;
      const containers = pod.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0,
        state: { running: { startedAt: now } }, lastState: {}, containerID: `wasm://${uid}/${c.name}`,
      }));
      this.#report(uid, 'Running', {
        uid, name, namespace,
        status: {
          phase: 'Running', hostIP: '127.0.0.1', startTime: now, containerStatuses: containers,
          conditions: CONDITIONS.map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now })),
          ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
        },
      });
    }
    for (const uid of this.#reported.keys()) if (!present.has(uid)) this.#reported.delete(uid);
  }

  #report(uid: string, state: Report['state'], message: object): void {
    this.#reported.set(uid, { state, message });
    this.#publishPodStatus(uid, message);
  }

  #publishPodStatus(uid: string, message: object): void {
    this.podReports++;
    this.#publish(topics.podStatus(this.name, uid), message, 1);
  }

  /** On the current session; a message that finds none is lost, as the agent's, and sent again on the next connect. */
  #publish(topic: string, message: object, qos: 0 | 1): void {
    if (!this.#isReady) return;
    this.client.publish(topic, JSON.stringify({ ...message, ...this.#envelope() }), { qos }, () => undefined);
  }

  #envelope() {
    return { v: PROTOCOL_VERSION, sessionId: this.sessionId, seq: this.#seq++, ts: Date.now(), node: this.name };
  }

  #nodeStatus() {
    return {
      labels: { 'kubernetes.io/hostname': this.name, 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', ...this.labels },
      capacity: { cpu: '4', memory: '1Gi', pods: '110' }, allocatable: { cpu: '4', memory: '1Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0-skiff-sim' }, observedGeneration: 0,
    };
  }
}

function streamBytes(client: MqttClient): number {
  const stream = client.stream as unknown as { bytesRead?: number; bytesWritten?: number } | undefined;
  return (stream?.bytesRead ?? 0) + (stream?.bytesWritten ?? 0);
}
