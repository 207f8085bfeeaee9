// The node channel's kept copies of desired states (control-plane/node-channel/kept-desired.ts):
// deflated once settled, in slices of the main loop, a replaced copy only after its own settle, and
// what a restarted broker gets back is the JSON as published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import { startWorkerBroker, type WorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { KeptDesired } from '../../control-plane/node-channel/kept-desired.js';
import { FakeClock } from '../support/fake-clock.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import { CONTROL_PLANE_USERS, NODE_TOKENS, testCredentials } from './node-channel.contract.js';
import { aDesiredState, RecordingAgentHandlers, RecordingNodeHandlers } from './recording-handlers.js';
import { waitFor } from './wait-for.js';

const podNames = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(4, '0')}`);

describe('kept desired states', () => {
  it('deflates a copy once it settled and gives back its JSON; a copy replaced since waits for its own settle', () => {
    const clock = new FakeClock();
    const kept = new KeptDesired({ clock, settleMs: 60_000, sliceMs: Infinity }); // a sweep in one go (slices: below)
    const big = JSON.stringify(aDesiredState('node-a', 1, podNames(100, 'web')));
    kept.set('t/a', big);
    clock.advance(59_999);
    expect(kept.bytes).toBe(big.length); // as published until it settled
    clock.advance(1);
    expect(kept.bytes).toBeLessThan(big.length / 5);
    expect(kept.payload('t/a')).toBe(big);
    // replaced 30 s before the next sweep: still a string after it, deflated by the one after
    const second = JSON.stringify(aDesiredState('node-a', 2, podNames(100, 'v2')));
    const other = JSON.stringify(aDesiredState('node-b', 1, podNames(100, 'b')));
    kept.set('t/b', other);
    clock.advance(30_000);
    kept.set('t/a', second);
    clock.advance(30_000);
    expect(kept.bytes - second.length).toBeLessThan(other.length / 5); // t/b deflated, t/a not yet
    expect(kept.bytes).toBeGreaterThan(second.length);
    clock.advance(59_999); // the next sweep: 60 s after the last (a copy waits between one and two settle periods)
    expect(kept.bytes).toBeGreaterThan(second.length);
    clock.advance(1);
    expect(kept.bytes).toBeLessThan((second.length + other.length) / 5);
    expect(kept.payload('t/a')).toBe(second);
    expect(kept.payload('t/b')).toBe(other);
    kept.set('t/c', '');
    kept.delete('t/a');
    expect([...kept.topics()]).toEqual(['t/b', 't/c']);
    expect(kept.payload('t/a')).toBeUndefined();
    expect(kept.payload('t/c')).toBe('');
    kept.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('yields the main loop after each slice of work and finishes the sweep on later turns', async () => {
    const clock = new FakeClock();
    const kept = new KeptDesired({ clock, settleMs: 1000, sliceMs: 0 }); // one copy per slice
    const copies = Array.from({ length: 5 }, (_, i) => JSON.stringify(aDesiredState(`node-${i}`, 1, podNames(50, `p${i}`))));
    copies.forEach((c, i) => kept.set(`t/${i}`, c));
    const raw = copies.reduce((n, c) => n + c.length, 0);
    clock.advance(1000);
    const afterFirstSlice = kept.bytes;
    expect(afterFirstSlice).toBeLessThan(raw);
    expect(afterFirstSlice).toBeGreaterThan(raw - copies[0]!.length); // only the first: the rest waits for the loop
    await waitFor('every copy deflated', () => kept.bytes < raw / 5);
    copies.forEach((c, i) => expect(kept.payload(`t/${i}`)).toBe(c));
  });

  describe('in the node channel, through a broker restart', () => {
    let broker: WorkerBroker;
    beforeAll(async () => { broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials() }); });
    afterAll(async () => { await broker?.close(); });

    it('keeps 20 nodes\' desired states in a fifth of their size and republishes them whole after the broker forgot them', async () => {
      const channel = new MqttNodeChannel({ url: broker.url, username: 'control-plane', password: CONTROL_PLANE_USERS['control-plane'], epoch: 'e-kept', reconnectPeriodMs: 50, brokerInProcess: true, keptDesiredSettleMs: 50 });
      await channel.start(new RecordingNodeHandlers());
      try {
        const nodes = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'node-q' : `kept-${i}`));
        const states = nodes.map((node, i) => aDesiredState(node, 100 + i, podNames(40, node)));
        let raw = 0;
        for (const state of states) {
          raw += JSON.stringify(state).length;
          await channel.publishDesired(state);
        }
        await waitFor('the copies compressed', () => channel.keptDesiredBytes < raw / 5);
        await broker.restart(); // retained messages forgotten; the channel reconnects and restores them
        const agent = new MqttAgentChannel({ url: broker.url, node: 'node-q', token: NODE_TOKENS['node-q']!, agentVersion: 't', backoff: { initialMs: 50, maxMs: 200 } });
        const handlers = new RecordingAgentHandlers();
        await agent.connect(handlers);
        try {
          const restored = await waitFor('node-q\'s desired state again', () => handlers.desireds.find((d) => d.generation === 100), { timeoutMs: 10_000 });
          expect(restored).toEqual(states[0]);
        } finally {
          await agent.close();
        }
      } finally {
        await channel.stop();
      }
    });
  });
});
