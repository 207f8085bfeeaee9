import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../api/mqtt/messages.js';
import { agentSubscriptions, controlPlaneSubscriptions, topics } from '../../api/mqtt/topics.js';
import { isTopicLevel } from '../../api/mqtt/topic-level.js';
import { canPublish, canSubscribe, isClientIdAllowed, NODE_PUBLISH_PATTERNS, NODE_SUBSCRIBE_PATTERNS, type Identity } from '../../control-plane/broker/broker-acl.js';
import { seededRandom } from '../support/seeded-random.js';

const nodeA: Identity = { kind: 'node', node: 'node-a' };
const cp: Identity = { kind: 'control-plane' };
const allowed = (d: { allowed: boolean }) => d.allowed;

describe('broker ACL', () => {
  it('lets a node publish each of its own agent topics', () => {
    const own = [
      topics.presence('node-a'), topics.status('node-a'), topics.lease('node-a'), topics.events('node-a'), topics.metrics('node-a'),
      topics.podStatus('node-a', 'uid-1'), topics.podLogs('node-a', 'uid-1'), topics.rpcResponse('node-a', 'cp-1'),
    ];
    expect(own.map((t) => allowed(canPublish(nodeA, t, 10)))).toEqual(own.map(() => true));
  });

  it('keeps a node from publishing another node topics, desired state, rpc requests or cp presence', () => {
    const foreign = [
      topics.status('node-b'), topics.presence('node-b'), topics.metrics('node-b'), topics.desired('node-a'), topics.rpcRequest('node-a', 'logs'),
      topics.cpPresence(), 'fleet/v1/nodes/node-a/status/extra', 'fleet/v1/nodes/node-a/pods/a/b/status', 'other/topic',
      '$SYS/broker/uptime', 'fleet/v1/nodes/node-a/pods/+/status',
      // the parts of the desired state are the control plane's alone (decision 057)
      topics.clusterServices(), topics.clusterPeers(), topics.desiredPolicies('node-a'), topics.desiredPolicies('node-b'),
    ];
    expect(foreign.filter((t) => allowed(canPublish(nodeA, t, 10)))).toEqual([]);
  });

  it('caps payloads at MAX_PAYLOAD_BYTES for everyone', () => {
    expect(allowed(canPublish(nodeA, topics.status('node-a'), MAX_PAYLOAD_BYTES))).toBe(true);
    expect(canPublish(nodeA, topics.status('node-a'), MAX_PAYLOAD_BYTES + 1)).toMatchObject({ allowed: false });
    expect(canPublish(cp, topics.desired('node-a'), MAX_PAYLOAD_BYTES + 1)).toMatchObject({ allowed: false });
  });

  it('lets a node retain only its presence', () => {
    expect(allowed(canPublish(nodeA, topics.presence('node-a'), 10, true))).toBe(true);
    expect(allowed(canPublish(nodeA, topics.status('node-a'), 10, true))).toBe(false);
  });

  it('lets the control plane publish under the prefix only, never $SYS', () => {
    expect(allowed(canPublish(cp, topics.desired('node-a'), 10, true))).toBe(true);
    expect(allowed(canPublish(cp, topics.cpPresence(), 10, true))).toBe(true);
    expect(allowed(canPublish(cp, '$SYS/x', 10))).toBe(false);
    expect(allowed(canPublish(cp, 'elsewhere/x', 10))).toBe(false);
  });

  it('lets a node subscribe to exactly its agent subscriptions and one concrete rpc method', () => {
    expect(agentSubscriptions('node-a').map((f) => allowed(canSubscribe(nodeA, f)))).toEqual(agentSubscriptions('node-a').map(() => true));
    expect(agentSubscriptions('node-a')).toEqual(expect.arrayContaining([topics.clusterServices(), topics.clusterPeers(), topics.desiredPolicies('node-a')]));
    expect(allowed(canSubscribe(nodeA, topics.rpcRequest('node-a', 'logs')))).toBe(true);
  });

  it('keeps a node from subscribing to other nodes or wildcards over them', () => {
    const filters = [
      topics.desired('node-b'), 'fleet/v1/nodes/+/desired', 'fleet/v1/#', '#', 'fleet/v1/nodes/node-a/#',
      'fleet/v1/nodes/node-a/rpc/req/#', topics.status('node-a'), '$SYS/#',
      topics.desiredPolicies('node-b'), 'fleet/v1/nodes/+/desired/policies', 'fleet/v1/cluster/#', 'fleet/v1/cluster/desired/+',
      'fleet/v1/nodes/node-a/desired/+', 'fleet/v1/cluster/desired/secrets',
    ];
    expect(filters.filter((f) => allowed(canSubscribe(nodeA, f)))).toEqual([]);
  });

  it('keeps a bootstrap identity from the cluster-wide parts of the desired state', () => {
    const bootstrap: Identity = { kind: 'bootstrap' };
    expect([topics.clusterServices(), topics.clusterPeers()].filter((f) => allowed(canSubscribe(bootstrap, f)))).toEqual([]);
  });

  it('lets the control plane subscribe to its wildcards under the prefix, not outside', () => {
    expect(controlPlaneSubscriptions('cp-1').every((f) => allowed(canSubscribe(cp, f)))).toBe(true);
    expect(allowed(canSubscribe(cp, '#'))).toBe(false);
    expect(allowed(canSubscribe(cp, '$SYS/#'))).toBe(false);
  });

  it('binds a node clientId to its name and the control plane clientId to its username', () => {
    expect(isClientIdAllowed(nodeA, 'node-a', 'node-a')).toBe(true);
    expect(isClientIdAllowed(nodeA, 'node-a', 'node-b')).toBe(false);
    expect(isClientIdAllowed({ kind: 'node', node: 'bad/name' }, 'bad/name', 'bad/name')).toBe(false);
    expect(isClientIdAllowed(cp, 'control-plane', 'control-plane')).toBe(true);
    expect(isClientIdAllowed(cp, 'control-plane', 'control-plane/cp-1')).toBe(true);
    expect(isClientIdAllowed(cp, 'control-plane', 'control-plane/')).toBe(false);
    expect(isClientIdAllowed(cp, 'control-plane', 'node-a')).toBe(false);
  });

  it('decides as the uncompiled patterns did, on seeded random topics and filters', () => {
    // the rules before precompilation: fill `{node}`, split pattern and topic, compare level by level
    const fill = (pattern: string, node: string) => pattern.replace('{node}', node);
    const matches = (pattern: string, topic: string) => {
      const want = pattern.split('/');
      const have = topic.split('/');
      return want.length === have.length && want.every((level, i) => (level === '+' ? isTopicLevel(have[i]!) : level === have[i]));
    };
    const wild = (t: string) => t.includes('+') || t.includes('#');
    const mayPublish = (node: string, topic: string, retain: boolean) => !wild(topic) && !topic.startsWith('$')
      && NODE_PUBLISH_PATTERNS.some((p) => matches(fill(p, node), topic)) && (!retain || topic === fill('fleet/v1/nodes/{node}/presence', node));
    const maySubscribe = (node: string, filter: string) => !filter.startsWith('$')
      && NODE_SUBSCRIBE_PATTERNS.some((p) => filter === fill(p, node) || (!wild(filter) && matches(fill(p, node), filter)));
    const random = seededRandom(13);
    const words = ['fleet', 'v1', 'nodes', 'node-a', 'node-b', 'presence', 'status', 'lease', 'events', 'metrics', 'pods', 'uid-1', 'logs',
      'rpc', 'req', 'res', 'cp-1', 'desired', 'policies', 'cluster', 'services', 'peers', 'cp', '+', '#', '', '$SYS', 'a+b', '{node}'];
    const word = () => words[Math.floor(random() * words.length)]!;
    const own = [...NODE_PUBLISH_PATTERNS, ...NODE_SUBSCRIBE_PATTERNS].map((p) => fill(p, 'node-a'));
    let allowedSeen = 0;
    const disagreements: object[] = [];
    for (let i = 0; i < 20_000; i++) {
      // half start from a real topic of node-a with one level replaced, half are random levels
      const levels = random() < 0.5 ? own[Math.floor(random() * own.length)]!.split('/') : Array.from({ length: 1 + Math.floor(random() * 7) }, word);
      if (random() < 0.5) levels[Math.floor(random() * levels.length)] = word();
      const topic = levels.join('/');
      const retain = random() < 0.3;
      const publish = allowed(canPublish(nodeA, topic, 10, retain));
      const subscribe = allowed(canSubscribe(nodeA, topic));
      if (publish !== mayPublish('node-a', topic, retain) || subscribe !== maySubscribe('node-a', topic)) disagreements.push({ topic, retain, publish, subscribe });
      if (publish || subscribe) allowedSeen += 1;
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(allowedSeen).toBeGreaterThan(1000); // the cases reach the allowed side too
  });
});
