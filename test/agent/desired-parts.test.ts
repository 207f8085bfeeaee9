// The parts of the desired state on their own topics (decision 057), as a real Agent takes them:
// each applied to the pod network when it comes, an older or identical one skipped, the cluster's
// peers without the node itself, a pods message that leaves parts to their topics never wiping
// them, an older control plane's whole message still applied, and an offline restart running
// with the parts it last held. Hostile parts (seeded) are refused by the decoder and never throw.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, SERVICES_WAIT_MS } from '../../agent/agent.js';
import type { AgentChannel, AgentChannelHandlers } from '../../agent/agent-channel.js';
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { decodeControlPlaneMessage } from '../../agent/mqtt-cp-message-decoder.js';
import { DesiredStateFile } from '../../agent/state/desired-state-file.js';
import type { DesiredPartMessage } from '../../api/mqtt/desired-parts.js';
import type { DesiredService, DesiredStateMessage } from '../../api/mqtt/messages.js';
import { topics } from '../../api/mqtt/topics.js';
import type { LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';
import { seededRandom } from '../support/seeded-random.js';

class IdleRuntime implements PodRuntime {
  readonly fuelPerSecond = 1e9;
  async load(digest: string): Promise<LoadedComponent> { return { digest }; }
  async start(): Promise<RunningContainer> { return { id: 'c', startedAt: new Date(), exited: new Promise(() => {}), stop: async () => ({ exitCode: 0, reason: 'Completed' as const, startedAt: new Date(), finishedAt: new Date() }) } as unknown as RunningContainer; }
  async close(): Promise<void> {}
}

class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: true }; }
}

class FakeChannel implements AgentChannel {
  handlers!: AgentChannelHandlers;
  isConnected = true;
  async connect(handlers: AgentChannelHandlers): Promise<void> { this.handlers = handlers; }
  async publishNodeStatus(): Promise<void> {}
  async publishPodStatus(): Promise<void> {}
  async publishLease(): Promise<void> {}
  async publishEvent(): Promise<void> {}
  async close(): Promise<void> {}
}

const service = (name: string): DesiredService => ({ namespace: 'default', name, clusterIP: '10.43.0.10', ports: [{ port: 80 }], endpoints: [] });
const envelope = (generation: number, hash: string) => ({ v: 1 as const, generation, hash: hash.repeat(32).slice(0, 32), cpEpoch: 'e', ts: 1 });
const servicesPart = (generation: number, hash: string, names: string[]): DesiredPartMessage => ({ ...envelope(generation, hash), part: 'services', services: names.map(service) });
const peersPart = (generation: number, hash: string, nodes: string[]): DesiredPartMessage => ({
  ...envelope(generation, hash), part: 'peers', peers: nodes.map((node, i) => ({ node, podCIDR: `10.42.${i + 1}.0/24`, port: 10250 })),
});
const podsMessage = (generation: number, extra: Partial<DesiredStateMessage> = {}): DesiredStateMessage => ({
  v: 1, node: 'n1', generation, cpEpoch: 'e', ts: 0, pods: [], parts: ['services', 'peers', 'policies'], ...extra,
});
const names = (agent: Agent) => [...agent.network.services.services].map((s) => s.name);

describe('an agent given its desired state in parts', () => {
  let dir: string | undefined;
  const agents: Agent[] = [];
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop(0);
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function startAgent(stateFile?: DesiredStateFile, clock = new FakeClock()) {
    const channel = new FakeChannel();
    const agent = new Agent({
      node: 'n1', channel, runtime: new IdleRuntime(), fetcher: new FakeFetcher(), clock, logger: pino({ level: 'silent' }),
      ...(stateFile ? { stateFile } : {}),
    });
    agents.push(agent);
    await agent.start();
    return { agent, channel };
  }

  it('applies each part as it comes, skips an older or identical one, and leaves itself out of the peers', async () => {
    const { agent, channel } = await startAgent();
    channel.handlers.desiredPart(servicesPart(5, 'a', ['web']));
    expect(names(agent)).toEqual(['web']);
    channel.handlers.desiredPart(servicesPart(4, 'b', ['old'])); // older: a stale copy
    channel.handlers.desiredPart(servicesPart(6, 'a', ['same-hash'])); // same content hash: nothing to do
    expect(names(agent)).toEqual(['web']);
    channel.handlers.desiredPart(servicesPart(6, 'c', ['web', 'api']));
    expect(names(agent)).toEqual(['web', 'api']);
    expect(agent.desiredParts.generations.services).toBe(6);

    channel.handlers.desiredPart(peersPart(3, 'd', ['n1', 'n2']));
    expect(agent.network.peers.peers.map((p) => p.node)).toEqual(['n2']);

    channel.handlers.desiredPart({ ...envelope(3, 'e'), part: 'policies', node: 'n1', networkPolicies: [{ namespace: 'default', name: 'deny', pods: [{ ip: '10.42.0.5' }], ingress: [] }] });
    expect(agent.network.policies.empty).toBe(false);
    channel.handlers.desiredPart({ ...envelope(4, 'f'), part: 'policies', node: 'n2', networkPolicies: [] }); // another node's: never
    expect(agent.network.policies.empty).toBe(false);

    // the pods message leaves the parts to their topics: nothing of them is wiped
    channel.handlers.desired(podsMessage(10));
    expect(names(agent)).toEqual(['web', 'api']);
    expect(agent.network.peers.peers.map((p) => p.node)).toEqual(['n2']);
    expect(agent.network.policies.empty).toBe(false);

    // an older control plane's whole desired state: what it leaves out is none
    channel.handlers.desired({ ...podsMessage(11), parts: undefined, services: [service('legacy')] });
    expect(names(agent)).toEqual(['legacy']);
    expect(agent.network.peers.peers).toEqual([]);
    expect(agent.network.policies.empty).toBe(true);
  });

  it('holds a pods message until the Services were read once (as the kubelet builds no environment before), at most SERVICES_WAIT_MS', async () => {
    const applied = (agent: Agent) => agent.pods.state().desired?.generation;
    const first = await startAgent();
    first.channel.handlers.desired(podsMessage(3));
    expect(applied(first.agent)).toBeUndefined(); // the Services part is still to come
    first.channel.handlers.desired(podsMessage(4)); // a newer one replaces the held one
    first.channel.handlers.desiredPart(peersPart(1, 'p', ['n1', 'n2']));
    expect(applied(first.agent)).toBeUndefined();
    first.channel.handlers.desiredPart(servicesPart(2, 's', ['web']));
    expect(applied(first.agent)).toBe(4);
    first.channel.handlers.desired(podsMessage(5)); // Services known: applied at once
    expect(applied(first.agent)).toBe(5);

    const clock = new FakeClock();
    const second = await startAgent(undefined, clock);
    second.channel.handlers.desired(podsMessage(7));
    clock.advance(SERVICES_WAIT_MS - 1);
    expect(applied(second.agent)).toBeUndefined();
    clock.advance(1); // no Services part at all: the pods run without their variables
    expect(applied(second.agent)).toBe(7);

    const third = await startAgent();
    third.channel.handlers.desired({ ...podsMessage(2), parts: undefined, services: [] }); // an older control plane: whole
    expect(applied(third.agent)).toBe(2);
  });

  it('persists the parts with its pods, and runs with them after an offline restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-parts-'));
    const path = join(dir, 'desired-state.json');
    const first = await startAgent(new DesiredStateFile(path));
    first.channel.handlers.desiredPart(servicesPart(5, 'a', ['web']));
    first.channel.handlers.desiredPart(peersPart(5, 'b', ['n1', 'n2']));
    first.channel.handlers.desired(podsMessage(7));
    await first.agent.persisted();
    const saved = await new DesiredStateFile(path).load();
    expect(saved?.desired.parts).toBeUndefined(); // a whole state: restorable as is
    expect(saved?.desired.services?.map((s) => s.name)).toEqual(['web']);
    await first.agent.stop(0);
    agents.splice(0);

    const second = await startAgent(new DesiredStateFile(path)); // the control plane unreachable: nothing comes
    expect(names(second.agent)).toEqual(['web']);
    expect(second.agent.network.peers.peers.map((p) => p.node)).toEqual(['n2']);
    // the retained parts arrive once it connects: taken, though it restored newer-looking ones
    second.channel.handlers.desiredPart(servicesPart(5, 'c', ['web', 'api']));
    expect(names(second.agent)).toEqual(['web', 'api']);
  });

  it('refuses hostile parts with a reason, never a throw, and applies what it accepts without one (seeded fuzz)', async () => {
    const { agent, channel } = await startAgent();
    const random = seededRandom(57);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const hostile: unknown[] = [
      null, 1, 'x', [], {}, -1, 2 ** 53, Number.MAX_VALUE, '..', '../../etc', '\u0000', 'a'.repeat(70_000),
      { __proto__: { polluted: true } }, { constructor: { prototype: {} } }, [[[[[]]]]], { nested: { deeper: { deepest: [1, 2, 3] } } },
    ];
    const small = hostile.filter((h) => typeof h !== 'string' || h.length < 100);
    const valid = [servicesPart(9, 'a', ['web']), peersPart(9, 'b', ['n1', 'n2']), { ...envelope(9, 'c'), part: 'policies', node: 'n1', networkPolicies: [] }];
    const paths: Array<Array<string | number>> = [
      ['v'], ['generation'], ['hash'], ['cpEpoch'], ['part'], ['node'], ['services'], ['services', 0, 'ports'], ['services', 0, 'ports', 0, 'port'],
      ['services', 0, 'endpoints'], ['services', 0, 'name'], ['peers'], ['peers', 0, 'podCIDR'], ['peers', 0, 'port'], ['networkPolicies'],
    ];
    const topicsFor = [topics.clusterServices(), topics.clusterPeers(), topics.desiredPolicies('n1'), topics.desiredPolicies('n2'), 'fleet/v1/cluster/desired/../peers', 'fleet/v1/cluster/desired/secrets'];
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 1_500; i++) {
      const message = structuredClone(pick(valid)) as Record<string, unknown>;
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const path = pick(paths);
        let target: Record<string | number, unknown> | undefined = message;
        for (const key of path.slice(0, -1)) target = target && typeof target[key] === 'object' ? target[key] as Record<string, unknown> : undefined;
        if (target) target[path.at(-1)!] = random() < 0.1 ? Array.from({ length: 2_000 }, () => pick(small)) : pick(hostile);
      }
      if (random() < 0.01) message['services'] = Array.from({ length: 10_001 }, (_, n) => service(`s${n}`));
      const payload = Buffer.from(random() < 0.03 ? '{"v":1,"part":' : JSON.stringify(message));
      const decoded = decodeControlPlaneMessage('n1', pick(topicsFor), payload, 0);
      if (decoded.ok === true) {
        expect(decoded.value.kind).toBe('desiredPart');
        if (decoded.value.kind === 'desiredPart') channel.handlers.desiredPart(decoded.value.message);
        accepted++;
      } else {
        expect(typeof decoded.reason).toBe('string');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1_000);
    expect(accepted).toBeGreaterThan(0); // the fuzz reaches the agent too
    // a part on the wrong topic, or for another node, is refused whatever its content
    expect(decodeControlPlaneMessage('n1', topics.clusterPeers(), Buffer.from(JSON.stringify(valid[0])), 0).ok).toBe(false);
    expect(decodeControlPlaneMessage('n1', topics.desiredPolicies('n1'), Buffer.from(JSON.stringify({ ...valid[2], node: 'n2' })), 0).ok).toBe(false);
    expect(decodeControlPlaneMessage('n1', topics.desiredPolicies('n2'), Buffer.from(JSON.stringify(valid[2])), 0).ok).toBe(false);
    expect(agent.network.services).toBeDefined();
  });
});
