// The node channel's behaviour over a real broker: one suite, run against the embedded broker and
// against mosquitto (see embedded-broker.test.ts and mosquitto-broker.test.ts).
import type { ErrorWithSubackPacket, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel, type MqttAgentChannelOptions } from '../../agent/mqtt-agent-channel.js';
import { microTime, type Clock } from '../../api/clock.js';
import { MAX_PAYLOAD_BYTES, type DesiredStateMessage } from '../../api/mqtt/messages.js';
import { InvalidTopicLevelError } from '../../api/mqtt/topic-level.js';
import { topics } from '../../api/mqtt/topics.js';
import { sha256Hex, type CredentialEntry } from '../../control-plane/broker/credential-table.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import { NodeCallError, NodeCallTimeoutError } from '../../control-plane/node-channel/node-channel.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectRaw, publishSettled } from './raw-mqtt-client.js';
import { aDesiredState, aNodeStatus, RecordingAgentHandlers, RecordingNodeHandlers, type RpcHandler } from './recording-handlers.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait-for.js';

export const CONTROL_PLANE_USERS = { 'control-plane': 'cp-secret', 'control-plane-2': 'cp2-secret' } as const;
const NODE_NAMES = 'abcdefghijklmnopqrstuvw'.split('').map((c) => `node-${c}`);
export const NODE_TOKENS: Record<string, string> = Object.fromEntries(NODE_NAMES.map((n) => [n, `token-${n}`]));

/** The contract suite's users as the worker's table holds them. */
export function testCredentials(): CredentialEntry[] {
  return [
    ...Object.entries(CONTROL_PLANE_USERS).map(([username, password]) => ({ username, sha256: sha256Hex(password), identity: { kind: 'control-plane' as const } })),
    ...Object.entries(NODE_TOKENS).map(([node, token]) => ({ username: node, sha256: sha256Hex(token), identity: { kind: 'node' as const, node } })),
  ];
}

export interface TestBroker {
  url: string;
  port: number;
  /** Stops the broker and starts it again on the same port, forgetting all state. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Where brokers legitimately differ. */
export interface BrokerTraits {
  /** SUBACK 0x80 for a subscription the ACL forbids (aedes); mosquitto grants it and never delivers. */
  refusesForbiddenSubscriptions: boolean;
  /** How often the broker looks for expired keepalives (mosquitto 2.0 scans about every 5 s). */
  keepaliveScanPeriodMs: number;
}

export function describeNodeChannelOverBroker(name: string, startBroker: () => Promise<TestBroker>, traits: BrokerTraits, skip = false): void {
  describe.skipIf(skip)(`node channel over ${name}`, () => {
    let broker: TestBroker;
    const cleanups: Array<() => Promise<unknown>> = [];
    const later = (cleanup: () => Promise<unknown>) => cleanups.push(cleanup);

    beforeAll(async () => { broker = await startBroker(); });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    });
    afterAll(async () => { await broker?.close(); });

    async function startCp(o: { url?: string; clock?: Clock } = {}) {
      const epoch = `epoch-${Math.random().toString(36).slice(2, 8)}`;
      const channel = new MqttNodeChannel({
        url: o.url ?? broker.url, username: 'control-plane', password: CONTROL_PLANE_USERS['control-plane'],
        epoch, registryUrl: 'https://cp.local:6443/registry', reconnectPeriodMs: 100, ...(o.clock ? { clock: o.clock } : {}),
      });
      const handlers = new RecordingNodeHandlers();
      later(() => channel.stop());
      await channel.start(handlers);
      return { channel, handlers, epoch };
    }

    async function startAgent(node: string, o: Partial<MqttAgentChannelOptions> & { onRpc?: RpcHandler } = {}) {
      const { onRpc, ...rest } = o;
      const channel = new MqttAgentChannel({
        url: broker.url, node, token: NODE_TOKENS[node]!, agentVersion: '0.1.0-test', backoff: { initialMs: 50, maxMs: 400 }, ...rest,
      });
      const handlers = new RecordingAgentHandlers(onRpc);
      later(() => channel.close());
      await channel.connect(handlers);
      return { channel, handlers };
    }

    async function raw(username: string, password: string, clientId = username): Promise<MqttClient> {
      const client = await connectRaw({ url: broker.url, username, password, clientId });
      later(() => client.endAsync(true));
      return client;
    }

    const rawNode = (node: string) => raw(node, NODE_TOKENS[node]!);
    const rawStatus = (sessionId: string, extra: object = {}) =>
      JSON.stringify({ v: 1, sessionId, seq: 0, ts: 1, ...aNodeStatus(), ...extra });

    it('delivers birth, node status, pod status, lease and event with the envelope filled', async () => {
      const cp = await startCp();
      const { channel } = await startAgent('node-a');
      await channel.publishNodeStatus(aNodeStatus());
      await channel.publishPodStatus({ uid: 'uid-1', name: 'web', namespace: 'default', removed: false, status: { phase: 'Running' } });
      await channel.publishLease({ renewTime: microTime(Date.now()), leaseDurationSeconds: 40 });
      await channel.publishEvent({ involvedObject: { kind: 'Pod', name: 'web' }, type: 'Normal', reason: 'Started', message: 'started' });
      await waitFor('all four messages', () => cp.handlers.statuses.length && cp.handlers.podStatuses.length && cp.handlers.leases.length && cp.handlers.events.length);
      const birth = cp.handlers.presences.find((p) => p.message.sessionId === channel.sessionId && p.message.online);
      expect(birth?.node).toBe('node-a');
      expect(birth?.message.agentVersion).toBe('0.1.0-test');
      const sent = [cp.handlers.statuses[0]!, cp.handlers.podStatuses[0]!, cp.handlers.events[0]!];
      for (const { node, message } of sent) expect({ node, sessionId: message.sessionId, v: message.v }).toEqual({ node: 'node-a', sessionId: channel.sessionId, v: 1 });
      expect(sent.map((s) => s.message.seq)).toEqual([0, 1, 3]);
      expect(cp.handlers.leases[0]!.message.seq).toBe(2);
    });

    it('delivers a node metrics report at most once, with the envelope filled', async () => {
      const cp = await startCp();
      const { channel } = await startAgent('node-a');
      const pods = [{ uid: 'uid-1', namespace: 'default', name: 'web', containers: [{ name: 'main', cpuMillicores: 250, memoryBytes: 65_536 }] }];
      // QoS 0: a report may be lost on the way, the next one replaces it
      const received = await waitFor('a metrics report', async () => {
        await channel.publishMetrics({ windowMs: 15_000, usage: { cpuMillicores: 250, memoryBytes: 1 << 30 }, pods });
        return cp.handlers.metricsReports[0];
      }, { intervalMs: 50 });
      expect(received.node).toBe('node-a');
      expect(received.message).toMatchObject({ node: 'node-a', sessionId: channel.sessionId, windowMs: 15_000, pods });
    });

    it('gives a connecting agent the control plane presence with its epoch and registry', async () => {
      const cp = await startCp();
      const { handlers } = await startAgent('node-a');
      const seen = await waitFor('cp presence', () => handlers.cpPresences.find((p) => p.epoch === cp.epoch));
      expect(seen).toMatchObject({ online: true, registryUrl: 'https://cp.local:6443/registry' });
    });

    it('keeps a node from publishing another node status', async () => {
      const cp = await startCp();
      const victim = await startAgent('node-c');
      const attacker = await rawNode('node-b');
      await publishSettled(attacker, topics.status('node-c'), rawStatus('spoofed'));
      await victim.channel.publishNodeStatus(aNodeStatus());
      await waitFor('victim status', () => cp.handlers.statuses.find((s) => s.message.sessionId === victim.channel.sessionId));
      expect(cp.handlers.statuses.filter((s) => s.message.sessionId === 'spoofed')).toEqual([]);
    });

    it('gives an agent the cluster-wide parts and its own policies, never another node\'s, and no node writes them', async () => {
      const cp = await startCp();
      const part = { v: 1 as const, generation: 5, hash: 'a'.repeat(32), cpEpoch: cp.epoch, ts: 1 };
      await cp.channel.publishDesiredPart({ ...part, part: 'services', services: [{ namespace: 'default', name: 'web', clusterIP: '10.43.0.10', ports: [{ port: 80 }], endpoints: [] }] });
      await cp.channel.publishDesiredPart({ ...part, part: 'peers', peers: [{ node: 'node-t', podCIDR: '10.42.7.0/24', port: 0 }] });
      await cp.channel.publishDesiredPart({ ...part, part: 'policies', node: 'node-t', networkPolicies: [{ namespace: 'default', name: 't', pods: [] }] });
      await cp.channel.publishDesiredPart({ ...part, part: 'policies', node: 'node-u', networkPolicies: [{ namespace: 'default', name: 'u', pods: [] }] });
      const { handlers } = await startAgent('node-s'); // retained: it gets them on subscribing
      await waitFor('the cluster parts', () => handlers.desiredParts.length >= 2);
      expect(handlers.desiredParts.map((p) => p.part).sort()).toEqual(['peers', 'services']);
      const t = await startAgent('node-t');
      await waitFor('its policies', () => t.handlers.desiredParts.some((p) => p.part === 'policies'));
      expect(t.handlers.desiredParts.filter((p) => p.part === 'policies').map((p) => (p as { node: string }).node)).toEqual(['node-t']);
      // a node that forges a Services table: the broker never lets it through
      const attacker = await rawNode('node-u');
      await publishSettled(attacker, topics.clusterServices(), JSON.stringify({ ...part, generation: 9, hash: 'b'.repeat(32), part: 'services', services: [] }));
      await publishSettled(attacker, topics.desiredPolicies('node-t'), JSON.stringify({ ...part, generation: 9, hash: 'b'.repeat(32), part: 'policies', node: 'node-t', networkPolicies: [] }));
      await cp.channel.publishDesiredPart({ ...part, generation: 6, hash: 'c'.repeat(32), part: 'peers', peers: [] });
      await waitFor('the next peers part', () => handlers.desiredParts.some((p) => p.generation === 6));
      expect([...handlers.desiredParts, ...t.handlers.desiredParts].filter((p) => p.generation === 9)).toEqual([]);
    });

    it('keeps a node from subscribing to another node desired state', async () => {
      const cp = await startCp();
      const attacker = await rawNode('node-d');
      const received: string[] = [];
      attacker.on('message', (topic) => received.push(topic));
      const granted = await attacker.subscribeAsync([topics.desired('node-e'), topics.desired('node-d')], { qos: 1 })
        .then((grants) => grants.map((g) => g.qos), (error: ErrorWithSubackPacket) => error.packet.granted);
      expect(granted).toEqual([traits.refusesForbiddenSubscriptions ? 128 : 1, 1]);
      await cp.channel.publishDesired(aDesiredState('node-e', 1));
      await cp.channel.publishDesired(aDesiredState('node-d', 1));
      await waitFor('own desired', () => received.includes(topics.desired('node-d')));
      expect(received).toEqual([topics.desired('node-d')]);
    });

    it('does not let a node take over another node session by its clientId', async () => {
      const cp = await startCp();
      const victim = await startAgent('node-f');
      await connectRaw({ url: broker.url, username: 'node-g', password: NODE_TOKENS['node-g']!, clientId: 'node-f' })
        .then((client) => later(() => client.endAsync(true)), () => 'refused');
      await victim.channel.publishNodeStatus(aNodeStatus());
      await waitFor('victim status', () => cp.handlers.statuses.find((s) => s.message.sessionId === victim.channel.sessionId));
      expect(victim.handlers.disconnects).toBe(0);
      expect(victim.channel.isConnected).toBe(true);
    });

    it('refuses a payload above MAX_PAYLOAD_BYTES', async () => {
      const cp = await startCp();
      const witness = await startAgent('node-i');
      const big = await rawNode('node-h');
      const payload = rawStatus('too-big', { labels: { filler: 'x'.repeat(MAX_PAYLOAD_BYTES) } });
      expect(Buffer.byteLength(payload)).toBeGreaterThan(MAX_PAYLOAD_BYTES);
      await publishSettled(big, topics.status('node-h'), payload);
      await witness.channel.publishNodeStatus(aNodeStatus());
      await waitFor('witness status', () => cp.handlers.statuses.find((s) => s.node === 'node-i'));
      expect(cp.handlers.statuses.filter((s) => s.node === 'node-h')).toEqual([]);
      expect(cp.channel.invalidMessages).toBe(0); // stopped by the broker, not by the channel
    });

    it('delivers the retained desired state on connect, and the latest one on reconnect', async () => {
      const cp = await startCp();
      await cp.channel.publishDesired(aDesiredState('node-j', 1, ['web']));
      const first = await startAgent('node-j');
      const got = await waitFor('generation 1', () => first.handlers.desireds.find((d) => d.generation === 1));
      expect(got.pods[0]!.pod.metadata.name).toBe('web');
      expect(first.handlers.connects).toBe(1); // delivered after connected(), which publishes status first
      await first.channel.close();
      await cp.channel.publishDesired(aDesiredState('node-j', 2, ['web', 'db']));
      const second = await startAgent('node-j');
      const latest = await waitFor('generation 2', () => second.handlers.desireds.find((d) => d.generation === 2));
      expect(latest.pods).toHaveLength(2);
      expect(second.handlers.desireds.map((d) => d.generation)).toEqual([2]);
    });

    it('clears every retained message of a deleted node, for good, and no name reaches another node\'s', async () => {
      const own = await startBroker(); // restarted below
      later(() => own.close());
      const cp = await startCp({ url: own.url });
      const part = { v: 1 as const, generation: 5, hash: 'a'.repeat(32), cpEpoch: cp.epoch, ts: 1 };
      for (const node of ['node-v', 'node-w']) {
        await cp.channel.publishDesired(aDesiredState(node, 1, ['web']));
        await cp.channel.publishDesiredPart({ ...part, part: 'policies', node, networkPolicies: [] });
        const agent = await startAgent(node, { url: own.url }); // its birth: a retained presence
        await waitFor(`${node} desired`, () => agent.handlers.desireds.length > 0);
        await agent.channel.close(); // its offline presence stays retained
      }
      const all = ['desired', 'desiredPolicies', 'presence'] as const;
      await waitFor('both retained', async () => ((r) => r.has('node-v') && r.has('node-w'))(await cp.channel.retainedNodes()));
      for (const hostile of ['+', '#', 'node-w/#', 'node-w/desired', '+/desired', 'x'.repeat(254), '']) {
        await expect(cp.channel.clearRetained(hostile, all)).rejects.toThrow(InvalidTopicLevelError);
      }
      await cp.channel.clearRetained('node-v', all);
      expect([...await cp.channel.retainedNodes()].filter((n) => n === 'node-v' || n === 'node-w')).toEqual(['node-w']);
      const w = await startAgent('node-w', { url: own.url });
      await waitFor('node-w keeps its desired state and policies', () => w.handlers.desireds.length > 0 && w.handlers.desiredParts.some((p) => p.part === 'policies'));
      // a restarted broker gets back what the channel restores, and that no longer includes node-v
      await own.restart();
      await waitFor('cp reconnect', () => cp.channel.isConnected, { timeoutMs: 10_000 });
      await waitFor('node-w restored', async () => (await cp.channel.retainedNodes()).has('node-w'), { timeoutMs: 10_000 });
      expect((await cp.channel.retainedNodes()).has('node-v')).toBe(false);
    });

    describe('through a proxy that can cut the link', () => {
      let proxy: TcpProxy;
      beforeAll(async () => { proxy = await startTcpProxy(broker.port); });
      afterAll(async () => { await proxy?.close(); });
      const viaProxy = (node: string) => startAgent(node, { url: proxy.url, keepaliveSeconds: 1 });
      const offlineOf = (cp: { handlers: RecordingNodeHandlers }, sessionId: string) =>
        cp.handlers.presences.find((p) => p.message.sessionId === sessionId && !p.message.online);

      it('publishes the Will when the agent socket is destroyed, then the agent reconnects and gets its desired state again', async () => {
        const cp = await startCp();
        await cp.channel.publishDesired(aDesiredState('node-k', 1));
        const agent = await viaProxy('node-k');
        await waitFor('desired', () => agent.handlers.desireds.length === 1);
        proxy.dropAll();
        const will = await waitFor('Will', () => offlineOf(cp, agent.channel.sessionId), { timeoutMs: 3000 });
        expect(will.node).toBe('node-k');
        await waitFor('reconnect', () => agent.handlers.connects === 2 && agent.channel.isConnected);
        expect(agent.handlers.disconnects).toBe(1);
        await waitFor('desired again', () => agent.handlers.desireds.length === 2);
        const births = () => cp.handlers.presences.filter((p) => p.message.sessionId === agent.channel.sessionId && p.message.online);
        await waitFor('second birth', () => births().length === 2);
      });

      it('publishes the Will within about 1.5x keepalive (plus the broker scan period) when the agent falls silent', async () => {
        const cp = await startCp();
        const agent = await viaProxy('node-l');
        const boundMs = 1.5 * 1000 + traits.keepaliveScanPeriodMs + 1000;
        const startedMs = Date.now();
        proxy.freeze();
        await waitFor('Will', () => offlineOf(cp, agent.channel.sessionId), { timeoutMs: boundMs + 1000 });
        const elapsedMs = Date.now() - startedMs;
        expect(elapsedMs).toBeGreaterThan(900); // it took keepalive expiry, not a socket close
        expect(elapsedMs).toBeLessThan(boundMs);
      }, 20_000);
    });

    it('streams rpc data chunks in order and resolves with the final result', async () => {
      const cp = await startCp();
      await startAgent('node-m', {
        onRpc: (method, params, reply) => {
          if (method === 'logs') {
            reply.data(`line 1 of ${String(params.pod)}`);
            reply.data('line 2');
            reply.done({ lines: 2 });
          } else reply.error(404, `no method ${method}`);
        },
      });
      const chunks: unknown[] = [];
      const result = await cp.channel.call('node-m', 'logs', { pod: 'web' }, { timeoutMs: 5000, onData: (c) => chunks.push(c) });
      expect(result).toEqual({ lines: 2 });
      expect(chunks).toEqual(['line 1 of web', 'line 2']);
      const failure = await cp.channel.call('node-m', 'exec', {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(NodeCallError);
      expect(failure).toMatchObject({ code: 404, node: 'node-m', method: 'exec' });
    });

    it('times out an unanswered call and aborts the agent side at the deadline', async () => {
      const clock = new FakeClock(Date.now());
      const cp = await startCp({ clock });
      const agent = await startAgent('node-n', { clock });
      const call = cp.channel.call('node-n', 'logs', {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
      const { reply } = await waitFor('request at agent', () => agent.handlers.rpcs[0]);
      expect(reply.signal.aborted).toBe(false);
      clock.advance(5000);
      expect(await call).toBeInstanceOf(NodeCallTimeoutError);
      expect(reply.signal.aborted).toBe(true);
    });

    it('rejects an aborted call with the abort reason', async () => {
      const cp = await startCp();
      const agent = await startAgent('node-n');
      const controller = new AbortController();
      const call = cp.channel.call('node-n', 'logs', {}, { timeoutMs: 5000, signal: controller.signal }).catch((e: unknown) => e);
      await waitFor('request at agent', () => agent.handlers.rpcs[0]);
      controller.abort(new Error('user went away'));
      expect(await call).toMatchObject({ message: 'user went away' });
    });

    it('counts and drops malformed JSON and node-mismatched payloads, and keeps working', async () => {
      const cp = await startCp();
      const client = await rawNode('node-o');
      await publishSettled(client, topics.status('node-o'), 'not json {');
      await publishSettled(client, topics.status('node-o'), rawStatus('wrong-node', { node: 'node-p' }));
      await publishSettled(client, topics.podStatus('node-o', 'uid-9'), JSON.stringify({ v: 1, sessionId: 's', seq: 1, ts: 1 }));
      await publishSettled(client, topics.status('node-o'), rawStatus('good'));
      await waitFor('good status', () => cp.handlers.statuses.find((s) => s.message.sessionId === 'good'));
      expect(cp.channel.invalidMessages).toBe(3);
      expect(cp.handlers.statuses).toHaveLength(1);
      expect(cp.handlers.podStatuses).toHaveLength(0);
    });

    it('answers an rpc request once, ignoring a duplicate id, a request past its deadline and one without replyTo', async () => {
      const agent = await startAgent('node-q', { onRpc: (_m, params, reply) => reply.done(params) });
      const rawCp = await raw('control-plane-2', CONTROL_PLANE_USERS['control-plane-2'], 'control-plane-2');
      const responses: unknown[] = [];
      rawCp.on('message', (_topic, payload) => responses.push(JSON.parse(payload.toString())));
      await rawCp.subscribeAsync(topics.rpcResponse('node-q', 'raw-cp'), { qos: 1 });
      const request = (id: string, deadline: number, replyTo?: string) =>
        publishSettled(rawCp, topics.rpcRequest('node-q', 'echo'), JSON.stringify({ v: 1, id, deadline, params: { id }, ...(replyTo ? { replyTo } : {}) }));
      const future = Date.now() + 60_000;
      await request('dup-1', future, 'raw-cp');
      await request('dup-1', future, 'raw-cp');
      await request('late-1', 1, 'raw-cp');
      await request('no-reply-to', future);
      await request('last-1', future, 'raw-cp');
      await waitFor('last response', () => responses.length === 2);
      expect(agent.handlers.rpcs.map((r) => r.params.id)).toEqual(['dup-1', 'last-1']);
      expect(responses).toEqual([
        { v: 1, id: 'dup-1', seq: 0, done: true, data: { id: 'dup-1' } },
        { v: 1, id: 'last-1', seq: 0, done: true, data: { id: 'last-1' } },
      ]);
      expect(agent.channel.invalidMessages).toBe(1);
    });

    it('reconnects both sides after the broker restarts on the same port and restores retained state', async () => {
      const own = await startBroker();
      later(() => own.close());
      const cp = await startCp({ url: own.url });
      const desired: DesiredStateMessage = aDesiredState('node-r', 3);
      await cp.channel.publishDesired(desired);
      const agent = await startAgent('node-r', { url: own.url, onRpc: (_m, _p, reply) => reply.done('pong') });
      await waitFor('desired', () => agent.handlers.desireds.length === 1);
      await own.restart();
      await waitFor('agent reconnect', () => agent.handlers.connects === 2 && agent.channel.isConnected, { timeoutMs: 10_000 });
      await waitFor('cp reconnect', () => cp.channel.isConnected, { timeoutMs: 10_000 });
      await waitFor('desired restored', () => agent.handlers.desireds.length === 2, { timeoutMs: 10_000 });
      expect(agent.handlers.desireds[1]!.generation).toBe(3);
      expect(await cp.channel.call('node-r', 'ping', {}, { timeoutMs: 5000 })).toBe('pong');
    });
  });
}
