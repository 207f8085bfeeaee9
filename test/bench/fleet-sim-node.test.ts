// The fleet bench's simulated agent keeps its session as a real agent does: after the broker drops
// it, it connects again with backoff and sends again what an agent sends on connect (presence, node
// status, every pod's last status, a lease), and counts it; a vanished one stays gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerBroker, type WorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import { SimNode } from '../../bench/fleet-sim-node.js';
import { CONTROL_PLANE_USERS, NODE_TOKENS, testCredentials } from '../mqtt/node-channel.contract.js';
import { aDesiredState, RecordingNodeHandlers } from '../mqtt/recording-handlers.js';
import { waitFor } from '../mqtt/wait-for.js';

describe('the fleet bench\'s simulated agent', () => {
  let broker: WorkerBroker;
  let cp: MqttNodeChannel;
  const handlers = new RecordingNodeHandlers();
  beforeAll(async () => {
    broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials(), restartDelayMs: { initial: 10, max: 100 } });
    cp = new MqttNodeChannel({ url: broker.url, username: 'control-plane', password: CONTROL_PLANE_USERS['control-plane'], epoch: 'e1', reconnectPeriodMs: 50 });
    await cp.start(handlers);
  });
  afterAll(async () => {
    await cp?.stop();
    await broker?.close();
  });

  const join = (name: string) => SimNode.join({ name, mqttUrl: broker.url, credential: NODE_TOKENS[name]!, onError: () => {}, backoff: { initialMs: 20, maxMs: 100 } });

  it('reconnects after the broker drops it and sends its presence, node status, pods and lease again', async () => {
    const sim = await join('node-a');
    try {
      sim.renewLeases(60_000, 60_000); // none before the reconnect
      await cp.publishDesired(aDesiredState('node-a', 1, ['web']));
      await waitFor('the pod reported Running', () => handlers.podStatuses.some((p) => p.node === 'node-a' && p.message.status.phase === 'Running'));
      const before = { presences: handlers.presences.length, statuses: handlers.statuses.length, pods: handlers.podStatuses.length };
      expect(handlers.leases.filter((l) => l.node === 'node-a')).toEqual([]);

      await broker.kill(); // restarted on the same port, every session gone
      await waitFor('the session set up again', () => sim.reconnects === 1, { timeoutMs: 10_000 });
      await waitFor('everything sent again', () =>
        handlers.presences.slice(before.presences).some((p) => p.node === 'node-a' && p.message.online)
        && handlers.statuses.slice(before.statuses).some((s) => s.node === 'node-a')
        && handlers.podStatuses.slice(before.pods).some((p) => p.node === 'node-a' && p.message.uid === 'uid-web-0' && p.message.status.phase === 'Running')
        && handlers.leases.some((l) => l.node === 'node-a'), { timeoutMs: 10_000 });
      expect(sim.disconnects).toBe(1);
      expect(sim.isConnected).toBe(true);
      expect(sim.runningPods).toBe(1);
    } finally {
      sim.stop();
    }
  });

  it('stays gone once it vanished: the broker sends its Will and it does not dial again', async () => {
    const sim = await join('node-b');
    sim.vanish();
    await waitFor('its Will', () => handlers.presences.some((p) => p.node === 'node-b' && !p.message.online));
    const sessions = await SimNode.join({ name: 'node-c', mqttUrl: broker.url, credential: NODE_TOKENS['node-c']!, onError: () => {} });
    sessions.stop(); // a round trip through the broker after the Will: the vanished agent had time to dial
    expect({ attempts: sim.reconnectAttempts, disconnects: sim.disconnects, isConnected: sim.isConnected }).toEqual({ attempts: 0, disconnects: 0, isConnected: false });
  });
});
