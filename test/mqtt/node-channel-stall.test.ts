// The control plane's own MQTT session when its main loop stalls (decision 073). The broker runs on
// its worker thread (decision 069) and keeps its clocks while the main thread is held; with a
// keepalive it closes a client silent for 1.5 x keepalive, the control plane's included, and
// publishes its Will to every agent. Scaled down: keepalive 1 s, a stall of 2.5 s (the control
// plane's 30 s and a stall past 45 s in a loaded fleet run).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import { startWorkerBroker, type WorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import type { NodeChannelObserver } from '../../control-plane/node-channel/node-channel.js';
import { CONTROL_PLANE_USERS, NODE_TOKENS, testCredentials } from './node-channel.contract.js';
import { aNodeStatus, RecordingAgentHandlers, RecordingNodeHandlers } from './recording-handlers.js';
import { waitFor } from './wait-for.js';

/** Holds this thread (the control plane's main loop, and the test's agent with it) for `ms`; the broker's thread runs on. */
const holdMainLoop = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

class SessionLog implements NodeChannelObserver {
  readonly changes: boolean[] = [];
  received() {}
  dropped() {}
  sent() {}
  connected(isConnected: boolean) { this.changes.push(isConnected); }
}

describe('the control plane\'s MQTT session through a stall of its main loop', () => {
  let broker: WorkerBroker;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials() });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  afterAll(async () => { await broker?.close(); });

  async function startCp(o: { brokerInProcess?: boolean }) {
    const epoch = `epoch-${Math.random().toString(36).slice(2, 8)}`;
    const sessions = new SessionLog();
    const channel = new MqttNodeChannel({
      url: broker.url, username: 'control-plane', password: CONTROL_PLANE_USERS['control-plane'], epoch, reconnectPeriodMs: 100,
      keepaliveSeconds: 1, observer: sessions, ...o,
    });
    const handlers = new RecordingNodeHandlers();
    cleanups.push(() => channel.stop());
    await channel.start(handlers);
    return { channel, handlers, sessions, epoch };
  }

  async function startAgent(node: string) {
    const channel = new MqttAgentChannel({ url: broker.url, node, token: NODE_TOKENS[node]!, agentVersion: 't', backoff: { initialMs: 50, maxMs: 200 } });
    const handlers = new RecordingAgentHandlers();
    cleanups.push(() => channel.close());
    await channel.connect(handlers);
    return { channel, handlers };
  }

  it('with a keepalive (an external broker), loses the session; after it, announces a new epoch so agents send their state again', async () => {
    const cp = await startCp({});
    const agent = await startAgent('node-o');
    await waitFor('the control plane online', () => agent.handlers.cpPresences.some((p) => p.online && p.epoch === cp.epoch));
    holdMainLoop(2500);
    // the broker closed the silent session: the agents got its Will; then it came back
    await waitFor('the Will', () => agent.handlers.cpPresences.some((p) => !p.online));
    await waitFor('a new session', () => cp.sessions.changes.join() === 'true,false,true', { timeoutMs: 10_000 });
    const again = await waitFor('presence after the reconnect', () => agent.handlers.cpPresences.find((p) => p.online && p.epoch !== cp.epoch));
    // what agents sent while it was away reached no one: a new epoch is what makes them resend it (agent.ts)
    expect(again.epoch).toBe(`${cp.epoch}.2`);
  });

  it('with its broker in process (no keepalive), keeps the session through the stall: no Will, no reconnect, nothing lost', async () => {
    const cp = await startCp({ brokerInProcess: true });
    const agent = await startAgent('node-p');
    await waitFor('the control plane online', () => agent.handlers.cpPresences.some((p) => p.online && p.epoch === cp.epoch));
    holdMainLoop(2500);
    // a message through the broker after the stall: the session it arrives on is the one from before
    await agent.channel.publishNodeStatus(aNodeStatus());
    await waitFor('the node status', () => cp.handlers.statuses.some((s) => s.node === 'node-p'), { timeoutMs: 10_000 });
    expect(cp.sessions.changes).toEqual([true]);
    expect(agent.handlers.cpPresences.filter((p) => !p.online)).toEqual([]);
  });
});
