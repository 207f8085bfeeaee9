// The node channel's kept copies of desired states (control-plane/node-channel/kept-desired.ts):
// deflated off the main thread once published, a newer copy never overwritten by an older one's
// late compression, and what a restarted broker gets back is the JSON as published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAgentChannel } from '../../agent/mqtt-agent-channel.js';
import { startWorkerBroker, type WorkerBroker } from '../../control-plane/broker/worker-broker.js';
import { KeptDesired } from '../../control-plane/node-channel/kept-desired.js';
import { MqttNodeChannel } from '../../control-plane/node-channel/mqtt-node-channel.js';
import { CONTROL_PLANE_USERS, NODE_TOKENS, testCredentials } from './node-channel.contract.js';
import { aDesiredState, RecordingAgentHandlers, RecordingNodeHandlers } from './recording-handlers.js';
import { waitFor } from './wait-for.js';

const podNames = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(4, '0')}`);

describe('kept desired states', () => {
  it('deflates a copy once kept and gives back its JSON; a replaced copy stays replaced', async () => {
    const kept = new KeptDesired();
    const big = JSON.stringify(aDesiredState('node-a', 1, podNames(100, 'web')));
    kept.set('t/a', big);
    expect(kept.bytes).toBe(big.length); // as published until the thread pool has compressed it
    await waitFor('compressed', () => kept.bytes < big.length / 5);
    expect(await kept.payload('t/a')).toBe(big);
    // many replacements in a row: whichever compressions finish last, the newest copy is the one kept
    const versions = Array.from({ length: 20 }, (_, g) => JSON.stringify(aDesiredState('node-a', g + 2, podNames(50, `v${g}`))));
    for (const v of versions) kept.set('t/a', v);
    expect(await kept.payload('t/a')).toBe(versions.at(-1));
    await waitFor('the newest compressed', () => kept.bytes < versions.at(-1)!.length / 3);
    expect(await kept.payload('t/a')).toBe(versions.at(-1));
    kept.set('t/b', '');
    kept.delete('t/a');
    expect([...kept.topics()]).toEqual(['t/b']);
    expect(await kept.payload('t/a')).toBeUndefined();
  });

  describe('in the node channel, through a broker restart', () => {
    let broker: WorkerBroker;
    beforeAll(async () => { broker = await startWorkerBroker({ host: '127.0.0.1', port: 0, credentials: testCredentials() }); });
    afterAll(async () => { await broker?.close(); });

    it('keeps 20 nodes\' desired states in a fifth of their size and republishes them whole after the broker forgot them', async () => {
      const channel = new MqttNodeChannel({ url: broker.url, username: 'control-plane', password: CONTROL_PLANE_USERS['control-plane'], epoch: 'e-kept', reconnectPeriodMs: 50, brokerInProcess: true });
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
