// NodeChannel over MQTT 3.1.1: the control plane's single client of the broker (embedded or mosquitto).
import mqtt, { ErrorWithSubackPacket, type IClientOptions, type MqttClient } from 'mqtt';
import { nanoid } from 'nanoid';
import { systemClock, type Clock } from '../../api/clock.js';
import { silentLogger, type ChannelLogger } from '../../api/mqtt/channel-logger.js';
import { PROTOCOL_VERSION, RPC_INPUT_METHOD, type CpPresenceMessage, type DesiredStateMessage } from '../../api/mqtt/messages.js';
import type { DesiredPartMessage } from '../../api/mqtt/desired-parts.js';
import { requireTopicLevel } from '../../api/mqtt/topic-level.js';
import { controlPlaneSubscriptions, parseTopic, topics } from '../../api/mqtt/topics.js';
import { decodeAgentMessage, type AgentMessage } from './agent-message-decoder.js';
import {
  NodeChannelStoppedError, type CallOptions, type NodeChannel, type NodeChannelHandlers, type NodeChannelObserver, type RetainedNodeTopic, type TopicKind,
} from './node-channel.js';
import { KeptDesired } from './kept-desired.js';
import { RpcCallTable } from './rpc-call-table.js';
import { sweepRetained, type SweepObserver } from './retained-sweep.js';

export interface MqttNodeChannelOptions {
  url: string;
  username: string;
  password: string;
  /** Names this control plane's rpc response topic; random when absent. */
  cpInstance?: string;
  epoch: string;
  registryUrl?: string;
  caCert?: string;
  /** PEM CA of an mqtts:// broker when it is not the cluster CA (an external broker's). */
  brokerCa?: string;
  logger?: ChannelLogger;
  clock?: Clock;
  /** Fixed delay between reconnect attempts (one client: no herd to spread out). */
  reconnectPeriodMs?: number;
  /** MQTT keepalive (default 30 s; ignored when `brokerInProcess`). */
  keepaliveSeconds?: number;
  /**
   * The broker is this process's own (the embedded one, on its worker thread, over loopback): no
   * keepalive, so a main loop held longer than 1.5 x keepalive does not lose the session (decision 073).
   */
  brokerInProcess?: boolean;
  /** Counts messages and bytes by topic kind (metrics). */
  observer?: NodeChannelObserver;
  /** A kept desired state unchanged this long is deflated (kept-desired.ts; default 60 s). */
  keptDesiredSettleMs?: number;
}

const topicKind = (topic: string): TopicKind => parseTopic(topic)?.kind ?? 'unknown';

export class MqttNodeChannel implements NodeChannel {
  readonly cpInstance: string;
  readonly #options: MqttNodeChannelOptions;
  readonly #logger: ChannelLogger;
  readonly #clock: Clock;
  readonly #calls: RpcCallTable;
  /**
   * Last desired state (and part) per topic: republished after every reconnect, since a restarted
   * broker forgets retained messages. Deflated once settled (kept-desired.ts): O(pods) otherwise.
   */
  readonly #desired: KeptDesired;
  #client: MqttClient | undefined;
  #handlers: NodeChannelHandlers | undefined;
  #isReady = false;
  #stopped = false;
  #invalidMessages = 0;
  /** A retained sweep under way (retainedNodes) and what it observes. */
  #sweeping: Promise<Set<string>> | undefined;
  #sweep: SweepObserver | undefined;
  /** Sessions set up so far: after the first, presence carries a new epoch (decision 073). */
  #sessions = 0;

  constructor(options: MqttNodeChannelOptions) {
    this.#options = options;
    this.cpInstance = requireTopicLevel('cpInstance', options.cpInstance ?? `cp-${nanoid(10)}`);
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#desired = new KeptDesired({ clock: this.#clock, ...(options.keptDesiredSettleMs !== undefined ? { settleMs: options.keptDesiredSettleMs } : {}) });
    this.#calls = new RpcCallTable(this.#clock);
  }

  /** Messages dropped as invalid (bad JSON, schema, node mismatch, unknown topic or call). */
  get invalidMessages(): number {
    return this.#invalidMessages;
  }

  /** Size of the kept copies of desired states (deflated ones in bytes, others in characters). */
  get keptDesiredBytes(): number {
    return this.#desired.bytes;
  }

  get isConnected(): boolean {
    return this.#isReady;
  }

  start(handlers: NodeChannelHandlers): Promise<void> {
    if (this.#client) throw new Error('MqttNodeChannel already started');
    this.#handlers = handlers;
    const o = this.#options;
    const client = mqtt.connect(o.url, {
      ...this.#credentials(`${o.username}/${this.cpInstance}`),
      clean: true,
      // keepalive finds a dead peer or a half-open link; a loopback socket to a thread of this process
      // has neither (either end's death closes it), and a blocked loop cannot answer pings (decision 073)
      keepalive: o.brokerInProcess ? 0 : o.keepaliveSeconds ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      reconnectOnConnackError: true,
      resubscribe: false, // subscriptions are made on every connect, before presence goes out
      queueQoSZero: false,
      connectTimeout: 10_000,
      will: { topic: topics.cpPresence(), payload: Buffer.from(JSON.stringify(this.#presence(false))), qos: 1, retain: true },
    } satisfies IClientOptions);
    this.#client = client;
    client.on('message', (topic, payload, packet) => {
      if (!this.#sweep?.(topic, payload, packet.retain)) this.#onMessage(topic, payload);
    });
    client.on('close', () => {
      if (this.#isReady) this.#logger.warn({}, 'control plane lost its mqtt connection');
      this.#setReady(false);
    });
    client.on('error', (error) => this.#logger.warn({ err: error.message }, 'control plane mqtt error'));
    return new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        this.#onConnect(client).then(resolve, (error: unknown) => {
          this.#logger.warn({ err: String(error) }, 'control plane mqtt session setup failed');
        });
      };
      // MQTT.js leaves Nagle on: back-to-back small publishes would wait ~40 ms for delayed ACKs
      client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
      client.on('connect', onConnect);
      client.once('end', () => reject(new NodeChannelStoppedError('stopped before the first connect')));
    });
  }

  async publishDesired(desired: DesiredStateMessage): Promise<void> {
    requireTopicLevel('node', desired.node);
    await this.#retainDesired(topics.desired(desired.node), JSON.stringify(desired));
  }

  async publishDesiredPart(part: DesiredPartMessage): Promise<void> {
    const topic = part.part === 'policies' ? topics.desiredPolicies(requireTopicLevel('node', part.node))
      : part.part === 'services' ? topics.clusterServices() : topics.clusterPeers();
    await this.#retainDesired(topic, JSON.stringify(part));
  }

  async #retainDesired(topic: string, payload: string): Promise<void> {
    this.#desired.set(topic, payload);
    // While disconnected the cached copy goes out on the next connect; waiting here would stall reconcilers.
    if (this.#client && this.#isReady) await this.#send(this.#client, topic, payload, { qos: 1, retain: true });
  }

  async clearRetained(node: string, kinds: readonly RetainedNodeTopic[]): Promise<void> {
    requireTopicLevel('node', node); // a name with '+', '#' or '/' names no topic of its own
    for (const kind of kinds) {
      const topic = topics[kind](node);
      this.#desired.delete(topic); // not restored after a reconnect either
      // an empty retained publish is how MQTT 3.1.1 removes a retained message; sent when connected
      // (a broker that restarts meanwhile forgot it anyway; an external one is swept at the next start)
      if (this.#client && this.#isReady) await this.#send(this.#client, topic, '', { qos: 1, retain: true });
    }
  }

  async retainedNodes(): Promise<Set<string>> {
    const client = this.#client;
    if (!client || !this.#isReady) throw new NodeChannelStoppedError('not connected to the broker');
    while (this.#sweeping) await this.#sweeping.catch(() => undefined); // one at a time: one observer
    const sweep = sweepRetained(client, (observer) => { this.#sweep = observer; });
    this.#sweeping = sweep;
    try {
      return await sweep;
    } finally {
      this.#sweeping = undefined;
    }
  }

  /** How this control plane's clients connect: protocol, identity and the broker's CA. */
  #credentials(clientId: string): IClientOptions {
    const o = this.#options;
    return {
      // mqtts: the broker's certificate must chain to the cluster CA (or the external broker's, `brokerCa`)
      ...(o.url.startsWith('mqtts:') && (o.brokerCa ?? o.caCert) ? { ca: o.brokerCa ?? o.caCert } : {}),
      protocolVersion: 4,
      clientId,
      username: o.username,
      password: o.password,
    };
  }

  async call(node: string, method: string, params: Record<string, unknown>, options: CallOptions): Promise<unknown> {
    requireTopicLevel('node', node);
    requireTopicLevel('method', method);
    const client = this.#client;
    if (!client || this.#stopped) throw new NodeChannelStoppedError();
    const id = nanoid();
    const result = this.#calls.begin(id, node, method, options);
    const request = {
      v: PROTOCOL_VERSION, id, deadline: this.#clock.now() + options.timeoutMs, params, replyTo: this.cpInstance,
    };
    this.#send(client, topics.rpcRequest(node, method), JSON.stringify(request), { qos: 1 }).catch((error: Error) => this.#calls.fail(id, error));
    let seq = 0;
    let settled = false;
    const sendInput = (params: Record<string, unknown>) => {
      const input = { v: PROTOCOL_VERSION, id: nanoid(), deadline: request.deadline, params: { call: id, ...params }, replyTo: this.cpInstance };
      this.#send(client, topics.rpcRequest(node, RPC_INPUT_METHOD), JSON.stringify(input), { qos: 1 }).catch((error: Error) => this.#calls.fail(id, error));
    };
    const onAbort = () => {
      // tell the agent, so it stops the work (a followed log, an exec'd command) now, not at the deadline
      if (!settled && !this.#stopped) sendInput({ seq: 0, cancel: true });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void result.finally(() => {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
    }).catch(() => undefined);
    options.withInput?.((data) => {
      if (!settled && !this.#stopped) sendInput({ seq: seq++, data });
    });
    return result;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#desired.stop();
    this.#calls.cancelAll(new NodeChannelStoppedError('node channel stopped'));
    const client = this.#client;
    if (!client) return;
    if (this.#isReady) {
      await this.#send(client, topics.cpPresence(), JSON.stringify(this.#presence(false)), { qos: 1, retain: true })
        .catch((error: unknown) => this.#logger.warn({ err: String(error) }, 'offline presence not published'));
    }
    this.#setReady(false);
    await client.endAsync(!client.connected);
  }

  /** Subscribe first, then restore retained desired states, then announce: agents react to presence by resyncing. */
  async #onConnect(client: MqttClient): Promise<void> {
    const refused = await refusedSubscriptions(client, controlPlaneSubscriptions(this.cpInstance));
    // A broker ACL problem that retrying cannot fix: say so loudly and serve what is granted.
    if (refused.length > 0) this.#logger.error({ topics: refused }, 'broker refused control plane subscriptions');
    for (const topic of [...this.#desired.topics()]) { // a snapshot: the copies may change while sends wait
      const payload = this.#desired.payload(topic);
      if (payload !== undefined) await this.#send(client, topic, payload, { qos: 1, retain: true });
    }
    // What agents sent while this session was down reached no one (clean sessions, the broker queues
    // nothing for an absent subscriber): a new epoch makes them send their state again (decision 073).
    this.#sessions += 1;
    await this.#send(client, topics.cpPresence(), JSON.stringify(this.#presence(true)), { qos: 1, retain: true });
    this.#setReady(true);
    this.#logger.info({ cpInstance: this.cpInstance, epoch: this.#options.epoch }, 'control plane connected to mqtt');
  }

  /** Every publish goes through here, so the observer sees all of it. */
  #send(client: MqttClient, topic: string, payload: string, options: { qos: 0 | 1; retain?: boolean }): Promise<unknown> {
    this.#options.observer?.sent(topicKind(topic), Buffer.byteLength(payload));
    return client.publishAsync(topic, payload, options);
  }

  #setReady(isReady: boolean): void {
    if (this.#isReady === isReady) return;
    this.#isReady = isReady;
    this.#options.observer?.connected(isReady);
  }

  #presence(online: boolean): CpPresenceMessage {
    const o = this.#options;
    const epoch = this.#sessions > 1 ? `${o.epoch}.${this.#sessions}` : o.epoch;
    const message: CpPresenceMessage = { v: PROTOCOL_VERSION, online, epoch };
    if (online && o.registryUrl !== undefined) message.registryUrl = o.registryUrl;
    if (online && o.caCert !== undefined) message.caCert = o.caCert;
    return message;
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.#options.observer?.received(topicKind(topic), payload.length);
    const decoded = decodeAgentMessage(topic, payload);
    if (decoded.ok === 'empty') return;
    if (!decoded.ok) return this.#drop(topic, decoded.reason);
    try {
      this.#dispatch(decoded.value);
    } catch (error) {
      this.#logger.error({ topic, err: String(error) }, 'node channel handler failed');
    }
  }

  /** One handler per topic kind. */
  #dispatch(m: AgentMessage): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    switch (m.kind) {
      case 'presence': return handlers.presence(m.node, m.message);
      case 'status': return handlers.nodeStatus(m.node, m.message);
      case 'lease': return handlers.lease(m.node, m.message);
      case 'events': return handlers.event(m.node, m.message);
      case 'metrics': return handlers.metrics?.(m.node, m.message);
      case 'podStatus': return handlers.podStatus(m.node, m.message);
      case 'rpcResponse': {
        if (m.cpInstance !== this.cpInstance) return this.#drop(topics.rpcResponse(m.node, m.cpInstance), 'response for another control plane');
        const outcome = this.#calls.handle(m.node, m.message);
        if (outcome === 'wrong-node') this.#drop(topics.rpcResponse(m.node, m.cpInstance), 'response from a node the call was not sent to');
        else if (outcome === 'unknown-call') this.#logger.debug({ node: m.node, id: m.message.id }, 'response to a finished call');
        return;
      }
    }
  }

  #drop(topic: string, reason: string): void {
    this.#invalidMessages += 1;
    this.#options.observer?.dropped(topicKind(topic));
    this.#logger.warn({ topic, reason }, 'dropped invalid message from agent');
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
