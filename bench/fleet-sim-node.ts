// One simulated agent of the fleet benchmark: a real MQTT client speaking the node protocol
// (credential exchange, birth, node status, leases, Will) and a minimal kubelet: it applies the
// retained desired state it receives and reports each pod Running, or removed once it is deleted,
// in the shape the real agent's pod status messages have (agent/pods/pod-worker.ts), without
// running anything. Cheap enough for a thousand of them in one process.
import mqtt, { type MqttClient } from 'mqtt';
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
}

const CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

export class SimNode {
  readonly sessionId: string;
  leasesSent = 0;
  /** Pod status messages sent (Running and removed). */
  podReports = 0;
  /** Desired-state messages received, and their bytes. */
  desiredMessages = 0;
  desiredBytes = 0;
  #seq = 0;
  #generation = -1;
  #timer: NodeJS.Timeout | undefined;
  /** uid -> what was reported last. */
  readonly #reported = new Map<string, 'Running' | 'removed'>();

  private constructor(readonly name: string, readonly client: MqttClient, readonly labels: Record<string, string> = {}) {
    this.sessionId = `s-${name}`;
  }

  static async join(o: SimNodeOptions): Promise<SimNode> {
    const sessionId = `s-${o.name}`;
    const client = await mqtt.connectAsync(o.mqttUrl, {
      protocolVersion: 4, clientId: o.name, username: o.name, password: o.credential, clean: true, keepalive: 30, reconnectPeriod: 0, connectTimeout: 90_000,
      will: { topic: topics.presence(o.name), payload: Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, sessionId, online: false, node: o.name })), qos: 1, retain: true },
    });
    const sim = new SimNode(o.name, client, o.labels);
    client.on('error', o.onError);
    client.on('message', (topic, payload) => {
      if (topic !== topics.desired(o.name) || payload.length === 0) return;
      sim.desiredMessages++;
      sim.desiredBytes += payload.length;
      sim.#apply(JSON.parse(payload.toString('utf8')) as DesiredStateMessage);
    });
    await client.subscribeAsync(agentSubscriptions(o.name), { qos: 1 });
    await client.publishAsync(topics.presence(o.name), JSON.stringify({ v: PROTOCOL_VERSION, sessionId, online: true, node: o.name, ts: Date.now() }), { qos: 1, retain: true });
    await client.publishAsync(topics.status(o.name), JSON.stringify(sim.#nodeStatus()), { qos: 1 });
    return sim;
  }

  /** Renews the lease every `intervalMs`, the first time after `firstInMs`. */
  renewLeases(intervalMs: number, firstInMs: number): void {
    const renew = () => {
      this.leasesSent++;
      this.client.publish(topics.lease(this.name), JSON.stringify({ ...this.#envelope(), renewTime: microTime(Date.now()), leaseDurationSeconds: 40 }), { qos: 0 });
    };
    this.#timer = setTimeout(() => {
      renew();
      this.#timer = setInterval(renew, intervalMs);
    }, firstInMs);
  }

  get bytes(): number {
    const stream = this.client.stream as unknown as { bytesRead: number; bytesWritten: number };
    return stream.bytesRead + stream.bytesWritten;
  }

  /** Pods this node reports Running now. */
  get runningPods(): number {
    let n = 0;
    for (const state of this.#reported.values()) if (state === 'Running') n++;
    return n;
  }

  /** The device vanishes: the socket closes without DISCONNECT, so the broker publishes the Will. */
  vanish(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    (this.client.stream as unknown as { destroy(): void }).destroy();
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.client.end(true);
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
        if (this.#reported.get(uid) === 'removed') continue;
        this.#reported.set(uid, 'removed');
        this.#publishPodStatus(uid, { uid, name, namespace, removed: true, status: { phase: 'Succeeded', hostIP: '127.0.0.1' } });
        continue;
      }
      if (this.#reported.has(uid)) continue;
      this.#reported.set(uid, 'Running');
      const containers = pod.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0,
        state: { running: { startedAt: now } }, lastState: {}, containerID: `wasm://${uid}/${c.name}`,
      }));
      this.#publishPodStatus(uid, {
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

  #publishPodStatus(uid: string, message: object): void {
    this.podReports++;
    this.client.publish(topics.podStatus(this.name, uid), JSON.stringify({ ...this.#envelope(), ...message }), { qos: 1 });
  }

  #envelope() {
    return { v: PROTOCOL_VERSION, sessionId: this.sessionId, seq: this.#seq++, ts: Date.now(), node: this.name };
  }

  #nodeStatus() {
    return {
      ...this.#envelope(),
      labels: { 'kubernetes.io/hostname': this.name, 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', ...this.labels },
      capacity: { cpu: '4', memory: '1Gi', pods: '110' }, allocatable: { cpu: '4', memory: '1Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0-skiff-sim' }, observedGeneration: 0,
    };
  }
}
