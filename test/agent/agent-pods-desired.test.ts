import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Agent, FUEL_CALIBRATION_DELAY_MS } from '../../agent/agent.js';
import type { AgentChannel, AgentChannelHandlers } from '../../agent/agent-channel.js';
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { FUEL_CAPACITY } from '../../agent/node-info.js';
import type { DesiredStateMessage, NodeStatusMessage } from '../../api/mqtt/messages.js';
import type { ContainerSpec, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

type Sent<T> = Omit<T, 'v' | 'sessionId' | 'seq' | 'ts'>;

/** A runtime whose containers run until stopped; counts reads of its (lazily measured) fuel per second. */
class IdleRuntime implements PodRuntime {
  fuelReads = 0;
  get fuelPerSecond(): number {
    this.fuelReads++;
    return 1.5e9;
  }
  async load(digest: string): Promise<LoadedComponent> {
    return { digest };
  }
  async start(spec: ContainerSpec): Promise<RunningContainer> {
    let settle!: () => void;
    const exited = new Promise<void>((r) => (settle = r)).then(() => ({ exitCode: 137, reason: 'Killed' as const, startedAt: new Date(), finishedAt: new Date() }));
    return { id: spec.id, startedAt: new Date(), exited, stop: async () => { settle(); return exited; } };
  }
  async close(): Promise<void> {}
}

class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: true }; }
}

class FakeChannel implements AgentChannel {
  handlers!: AgentChannelHandlers;
  readonly nodeStatuses: Array<Sent<NodeStatusMessage>> = [];
  isConnected = false;
  async connect(handlers: AgentChannelHandlers): Promise<void> {
    this.handlers = handlers;
    this.isConnected = true;
    handlers.connected();
  }
  async publishNodeStatus(m: Sent<NodeStatusMessage>): Promise<void> { this.nodeStatuses.push(m); }
  async publishPodStatus(): Promise<void> {}
  async publishLease(): Promise<void> {}
  async publishEvent(): Promise<void> {}
  async close(): Promise<void> {}
}

function desired(generation: number, uids: string[]): DesiredStateMessage {
  return {
    v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0,
    pods: uids.map((uid) => ({
      pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${uid}`, namespace: 'default', uid }, spec: { containers: [{ name: 'main', image: 'examples/sleep:latest' }] } },
      images: { 'examples/sleep:latest': { digest: `sha256:${'1'.repeat(64)}`, url: 'https://cp.local/blobs/1' } },
    })),
  };
}

async function startAgent(fuelPerSecond?: number) {
  const clock = new FakeClock();
  const runtime = new IdleRuntime();
  const channel = new FakeChannel();
  const calls: boolean[] = [];
  const agent = new Agent({
    node: 'n1', channel, runtime, fetcher: new FakeFetcher(), clock, logger: pino({ level: 'silent' }),
    onPodsDesired: (hasPods) => calls.push(hasPods), ...(fuelPerSecond ? { fuelPerSecond } : {}),
  });
  await agent.start();
  const capacity = () => channel.nodeStatuses.at(-1)!.capacity[FUEL_CAPACITY];
  return { agent, clock, runtime, channel, calls, capacity };
}

describe('an agent whose node gains and loses pods', () => {
  it('says so on every change, and measures its fuel per second once, a while after its first pods', async () => {
    const { agent, clock, runtime, channel, calls, capacity } = await startAgent();
    channel.handlers.desired(desired(1, []));
    expect(calls).toEqual([]);
    channel.handlers.desired(desired(2, ['a']));
    channel.handlers.desired(desired(3, ['a', 'b']));
    expect(calls).toEqual([true]);
    expect(runtime.fuelReads).toBe(0); // not while the first pods start
    expect(capacity()).toBeUndefined();

    clock.advance(FUEL_CALIBRATION_DELAY_MS);
    expect(runtime.fuelReads).toBe(1);
    expect(capacity()).toBe('1500000000');

    channel.handlers.desired(desired(4, []));
    channel.handlers.desired(desired(5, ['c']));
    clock.advance(FUEL_CALIBRATION_DELAY_MS);
    expect(calls).toEqual([true, false, true]);
    expect(runtime.fuelReads).toBe(1);
    expect(capacity()).toBe('1500000000');
    await agent.stop(0);
  });

  it('never measures when it was given its fuel per second', async () => {
    const { agent, clock, runtime, channel, calls, capacity } = await startAgent(2e9);
    channel.handlers.desired(desired(1, ['a']));
    clock.advance(FUEL_CALIBRATION_DELAY_MS * 2);
    expect(calls).toEqual([true]);
    expect(runtime.fuelReads).toBe(0);
    expect(capacity()).toBe('2000000000');
    await agent.stop(0);
  });
});
