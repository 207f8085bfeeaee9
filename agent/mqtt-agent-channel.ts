// AgentChannel over MQTT 3.1.1: one session per connection (clean), re-established with jittered
// exponential backoff; on every connect: subscribe -> birth -> connected() -> buffered deliveries.
import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import * as v from 'valibot';
import { systemClock, type Clock, type ClockTimer } from '../api/clock.js';
import { silentLogger, type ChannelLogger } from '../api/mqtt/channel-logger.js';
import {
  MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, RPC_INPUT_METHOD, rpcInputParams, type EventMessage, type LeaseMessage, type NodeMetricsMessage, type NodeStatusMessage,
  type PodStatusMessage, type PresenceMessage, type RpcResponseMessage,
} from '../api/mqtt/messages.js';
import { requireTopicLevel } from '../api/mqtt/topic-level.js';
import { agentSubscriptions, topics } from '../api/mqtt/topics.js';
import type { AgentChannel, AgentChannelHandlers } from './agent-channel.js';
import { decodeControlPlaneMessage, type ControlPlaneMessage } from './mqtt-cp-message-decoder.js';
import { connectMqtt, ErrorWithSubackPacket } from './mqtt-connect.js';
import { defaultBackoff, reconnectDelayMs, type BackoffOptions } from './mqtt-reconnect-backoff.js';
import { AgentChannelClosedError, createRpcReply, RpcCancelledError, RpcRequestLog, type ActiveReply } from './mqtt-rpc-reply.js';

export interface MqttAgentChannelOptions {
  url: string;
  /** PEM CA the mqtts:// broker's certificate must chain to (default: the system roots). */
  ca?: string | undefined;
  node: string;
  token: string;
  sessionId?: string;
  bootId?: string;
  agentVersion: string;
  clock?: Clock;
  logger?: ChannelLogger;
  backoff?: BackoffOptions;
  keepaliveSeconds?: number;
  /** Jitter source, for tests. */
  random?: () => number;
}

/** A publish was attempted while no session is up; the agent republishes its state on connected(). */
export class AgentChannelOfflineError extends Error {
  override readonly name = 'AgentChannelOfflineError';
  constructor(readonly topic: string) {
    super(`not connected: cannot publish to ${topic}`);
  }
}

/** The broker would drop the connection over it: refuse it here instead. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(readonly topic: string, readonly payloadBytes: number) {
    super(`payload for ${topic} is ${payloadBytes} bytes, more than ${MAX_PAYLOAD_BYTES}`);
  }
}

/** The broker's ACL does not grant the agent its own topics (a broker misconfiguration). */
export class SubscriptionRefusedError extends Error {
  override readonly name = 'SubscriptionRefusedError';
  constructor(readonly topics: string[]) {
    super(`broker refused subscriptions: ${topics.join(', ')}`);
  }
}

type Envelope = 'v' | 'sessionId' | 'seq' | 'ts';

export class MqttAgentChannel implements AgentChannel {
  readonly sessionId: string;
  readonly #options: MqttAgentChannelOptions;
  readonly #clock: Clock;
  readonly #logger: ChannelLogger;
  readonly #requestLog: RpcRequestLog;
  /** Calls in progress by id, with the control plane instance that made each. */
  readonly #replies = new Map<string, { reply: ActiveReply; replyTo: string }>();
  #handlers: AgentChannelHandlers | undefined;
  #client: MqttClient | undefined;
  /** Messages that arrive between SUBSCRIBE and connected(): delivered right after it, in order. */
  #held: ControlPlaneMessage[] | undefined;
  #isReady = false;
  #isClosed = false;
  #attempt = 0;
  #seq = 0;
  #reconnectTimer: ClockTimer | undefined;
  #firstConnect: { resolve(): void; reject(error: Error): void } | undefined;
  #invalidMessages = 0;
  /** The injected clock's timers may not hold the event loop (systemClock unrefs them); this does, until close(). */
  #keepProcessAlive: ReturnType<typeof setInterval> | undefined;

  constructor(options: MqttAgentChannelOptions) {
    requireTopicLevel('node', options.node);
    this.#options = options;
    this.sessionId = options.sessionId ?? nanoid(16);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#requestLog = new RpcRequestLog(this.#clock);
  }

  get isConnected(): boolean {
    return this.#isReady;
  }

  /** Messages dropped as invalid (bad JSON or schema, another node's desired state, no replyTo). */
  get invalidMessages(): number {
    return this.#invalidMessages;
  }

  connect(handlers: AgentChannelHandlers): Promise<void> {
    if (this.#handlers) throw new Error('MqttAgentChannel.connect called twice');
    this.#handlers = handlers;
    const connected = new Promise<void>((resolve, reject) => { this.#firstConnect = { resolve, reject }; });
    this.#keepProcessAlive = setInterval(() => {}, 60_000);
    this.#dial();
    return connected;
  }

  async publishNodeStatus(message: Omit<NodeStatusMessage, Envelope>): Promise<void> {
    return this.#publish(topics.status(this.#options.node), message, 1);
  }

  async publishPodStatus(message: Omit<PodStatusMessage, Envelope>): Promise<void> {
    return this.#publish(topics.podStatus(this.#options.node, requireTopicLevel('pod uid', message.uid)), message, 1);
  }

  async publishLease(message: Omit<LeaseMessage, Envelope>): Promise<void> {
    return this.#publish(topics.lease(this.#options.node), message, 0);
  }

  async publishEvent(message: Omit<EventMessage, Envelope>): Promise<void> {
    return this.#publish(topics.events(this.#options.node), message, 1);
  }

  async publishMetrics(message: Omit<NodeMetricsMessage, Envelope>): Promise<void> {
    return this.#publish(topics.metrics(this.#options.node), message, 0);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#reconnectTimer?.cancel();
    clearInterval(this.#keepProcessAlive);
    for (const { reply } of [...this.#replies.values()]) reply.abort(new AgentChannelClosedError());
    this.#firstConnect?.reject(new AgentChannelClosedError('closed before the first connect'));
    const client = this.#client;
    if (!client) return;
    if (this.#isReady) {
      await client.publishAsync(topics.presence(this.#options.node), JSON.stringify(this.#presence(false)), { qos: 1, retain: true })
        .catch((error: unknown) => this.#logger.warn({ err: String(error) }, 'offline presence not published'));
    }
    this.#setReady(false);
    await client.endAsync(!client.connected);
  }

  #dial(): void {
    const o = this.#options;
    const client = connectMqtt(o.url, {
      ...(o.ca ? { ca: o.ca } : {}),
      protocolVersion: 4,
      clientId: o.node,
      username: o.node,
      password: o.token,
      clean: true,
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: 0, // backoff is ours: MQTT.js only knows a fixed period
      queueQoSZero: false,
      resubscribe: false,
      connectTimeout: 10_000,
      will: { topic: topics.presence(o.node), payload: Buffer.from(JSON.stringify(this.#presence(false))), qos: 1, retain: true },
    } satisfies IClientOptions);
    this.#client = client;
    // MQTT.js leaves Nagle on: back-to-back small publishes would wait ~40 ms for delayed ACKs
    client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
    client.on('connect', () => {
      this.#onConnect(client).catch((error: unknown) => {
        this.#logger.error({ err: String(error) }, 'agent mqtt session setup failed; retrying');
        client.end(true);
      });
    });
    client.on('message', (topic, payload) => {
      if (client === this.#client) this.#onMessage(topic, payload);
    });
    client.on('error', (error) => this.#logger.warn({ err: error.message }, 'agent mqtt error'));
    client.once('close', () => this.#onClose(client));
  }

  async #onConnect(client: MqttClient): Promise<void> {
    this.#held = [];
    const refused = await refusedSubscriptions(client, agentSubscriptions(this.#options.node));
    // Without its desired state the agent is useless: fail the session and retry with backoff.
    if (refused.length > 0) throw new SubscriptionRefusedError(refused);
    await client.publishAsync(topics.presence(this.#options.node), JSON.stringify(this.#presence(true)), { qos: 1, retain: true });
    if (client !== this.#client || !client.connected || this.#isClosed) return;
    this.#attempt = 0;
    this.#setReady(true);
    this.#firstConnect?.resolve();
    const held = this.#held;
    this.#held = undefined;
    for (const message of held) this.#deliver(message);
  }

  #onClose(client: MqttClient): void {
    if (client !== this.#client) return;
    this.#held = undefined;
    this.#setReady(false);
    client.end(true);
    if (this.#isClosed) return;
    const delayMs = reconnectDelayMs(this.#attempt++, this.#options.backoff ?? defaultBackoff, this.#options.random);
    this.#logger.info({ delayMs, attempt: this.#attempt }, 'agent mqtt reconnect scheduled');
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      if (!this.#isClosed) this.#dial();
    }, delayMs);
  }

  #setReady(isReady: boolean): void {
    if (this.#isReady === isReady) return;
    this.#isReady = isReady;
    this.#callHandler(() => (isReady ? this.#handlers?.connected() : this.#handlers?.disconnected()));
  }

  #onMessage(topic: string, payload: Buffer): void {
    const decoded = decodeControlPlaneMessage(this.#options.node, topic, payload, this.#clock.now());
    if (decoded.ok === 'ignore') return this.#logger.debug({ topic, reason: decoded.reason }, 'ignored message');
    if (!decoded.ok) {
      this.#invalidMessages += 1;
      return this.#logger.warn({ topic, reason: decoded.reason }, 'dropped invalid message from control plane');
    }
    if (this.#held) this.#held.push(decoded.value);
    else this.#deliver(decoded.value);
  }

  /** One handler per message kind. */
  #deliver(m: ControlPlaneMessage): void {
    switch (m.kind) {
      case 'desired': return this.#callHandler(() => this.#handlers?.desired(m.message));
      case 'desiredPart': return this.#callHandler(() => this.#handlers?.desiredPart(m.message));
      case 'cpPresence': return this.#callHandler(() => this.#handlers?.cpPresence(m.message));
      case 'rpcRequest': {
        const { id, deadline, params, replyTo } = m.message;
        if (!this.#requestLog.admit(id, deadline)) return this.#logger.debug({ id }, 'duplicate rpc request ignored');
        if (m.method === RPC_INPUT_METHOD) return this.#input(params, replyTo);
        if (this.#replies.has(id)) return;
        const responseTopic = topics.rpcResponse(this.#options.node, replyTo);
        const reply = createRpcReply(id, deadline, this.#clock, (response) => this.#sendResponse(responseTopic, response), () => this.#replies.delete(id));
        this.#replies.set(id, { reply, replyTo });
        return this.#callHandler(() => this.#handlers?.rpc(m.method, params, reply));
      }
    }
  }

  /** Input for a call in progress, from the control plane instance that made it (else dropped). */
  #input(params: Record<string, unknown>, replyTo: string): void {
    const parsed = v.safeParse(rpcInputParams, params);
    const input = parsed.success ? parsed.output : undefined;
    const call = input && this.#replies.get(input.call);
    if (!input || !call || call.replyTo !== replyTo) return this.#logger.debug({ replyTo }, 'rpc input for no call in progress dropped');
    if (input.cancel) return call.reply.abort(new RpcCancelledError(input.call));
    this.#callHandler(() => call.reply.input(input.seq, input.data));
  }

  #sendResponse(topic: string, response: RpcResponseMessage): void {
    const client = this.#client;
    if (!client || !this.#isReady) return this.#logger.warn({ topic, id: response.id }, 'rpc response dropped while offline');
    client.publish(topic, JSON.stringify(response), { qos: 1 }, (error) => {
      if (error) this.#logger.warn({ topic, err: error.message }, 'rpc response not published');
    });
  }

  #callHandler(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#logger.error({ err: String(error) }, 'agent channel handler failed');
    }
  }

  async #publish(topic: string, message: object, qos: 0 | 1): Promise<void> {
    const client = this.#client;
    if (!client || !this.#isReady) throw new AgentChannelOfflineError(topic);
    const payload = JSON.stringify({ ...message, v: PROTOCOL_VERSION, sessionId: this.sessionId, seq: this.#seq++, ts: this.#clock.now(), node: this.#options.node });
    const payloadBytes = Buffer.byteLength(payload);
    if (payloadBytes > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(topic, payloadBytes);
    await client.publishAsync(topic, payload, { qos });
  }

  #presence(online: boolean): PresenceMessage {
    const o = this.#options;
    const base: PresenceMessage = { v: PROTOCOL_VERSION, sessionId: this.sessionId, online, node: o.node };
    if (!online) return base;
    const bootId = o.bootId ?? readBootId();
    return {
      ...base, ts: this.#clock.now(), agentVersion: o.agentVersion, arch: process.arch, os: process.platform,
      ...(bootId ? { bootId } : {}),
    };
  }
}

/** Subscribes at QoS 1; returns the filters the broker refused (SUBACK 0x80) instead of failing on them. */
async function refusedSubscriptions(client: MqttClient, filters: string[]): Promise<string[]> {
  try {
    await client.subscribeAsync(filters, { qos: 1 });
    return [];
  } catch (error) {
    if (!(error instanceof ErrorWithSubackPacket) || !error.packet?.granted) throw error;
    const granted = error.packet.granted;
    return filters.filter((_, i) => ((granted[i] as number | undefined ?? 0x80) & 0x80) !== 0);
  }
}

/** Linux's per-boot id: lets the control plane tell an agent restart from a device reboot. */
function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 64) || undefined;
  } catch {
    return undefined;
  }
}
