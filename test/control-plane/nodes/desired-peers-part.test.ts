// The peers part of the desired state (decisions 043, 057), published by the real DesiredPublisher:
// one cluster-wide message for every node (each agent leaves itself out); a node's new tunnel
// port sends that one message again and no node's pods; beyond 1,000 nodes it holds only the nodes
// running Service endpoints, and a joining node without any sends nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../api/types/node.js';
import type { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { PEERS_TO_EVERY_NODE_MAX } from '../../../control-plane/nodes/desired-peers.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { desiredRecorder, type DesiredRecorder } from '../support/desired-recorder.js';
import { startRecordedPublisher } from '../support/recorded-publisher.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const node = (i: number, port = 10250): Node => {
  const base = aNode(`n${i}`);
  return {
    ...base, spec: { ...base.spec, podCIDR: `10.${42 + (i >> 8)}.${i & 255}.0/24` },
    status: { ...base.status, addresses: [{ type: 'InternalIP', address: `192.168.${i >> 8}.${i & 255}` }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  } as Node;
};

describe('the peers part of the desired state', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  let settle: () => Promise<void> = async () => {};
  async function start(recorder: DesiredRecorder, options: { peersIntervalMs?: number } = {}) {
    ({ publisher, settle } = await startRecordedPublisher(t!, recorder, options));
  }

  it('is sent once per peersIntervalMs during a burst of joins, not once per join', async () => {
    t = await openTestResources();
    for (const i of [1, 2, 3]) await t.resources.create(resourceTypes.nodes, node(i));
    const recorder = desiredRecorder();
    await start(recorder, { peersIntervalMs: 1_000 });
    const peersSent = () => recorder.parts.filter((p) => p.part === 'peers').length;
    const before = peersSent();
    for (let i = 4; i <= 23; i++) {
      await t.resources.create(resourceTypes.nodes, node(i));
      await settle();
    }
    expect(peersSent()).toBe(before); // held back: the last publish started less than 1 s ago (fake clock)
    t.clock.advance(1_000);
    await settle();
    expect(peersSent()).toBe(before + 1);
    expect(recorder.lastPart('peers')!.peers).toHaveLength(23);
    t.clock.advance(10_000); // quiet again: the next join goes out at once
    await t.resources.create(resourceTypes.nodes, node(24));
    await settle();
    expect(peersSent()).toBe(before + 2);
  });

  it('is one message for every node, sent again alone when a node\'s tunnel changes', async () => {
    t = await openTestResources();
    for (const i of [1, 2, 3]) await t.resources.create(resourceTypes.nodes, node(i));
    const recorder = desiredRecorder();
    await start(recorder);
    expect(recorder.lastPart('peers')!.peers.map((p) => p.node)).toEqual(['n1', 'n2', 'n3']);
    expect(recorder.view('n1')!.peers!.map((p) => p.node)).toEqual(['n2', 'n3']);

    const pods = recorder.published.length;
    const parts = recorder.parts.length;
    await t.resources.mutate<Node>(resourceTypes.nodes, undefined, 'n2', (n) => ({ ...n, status: { ...n.status, daemonEndpoints: { kubeletEndpoint: { Port: 10251 } } } }), { subresource: 'status' });
    await settle();
    expect(recorder.parts.slice(parts).map((p) => p.part)).toEqual(['peers']);
    expect(recorder.published.length).toBe(pods); // no node's pods resent
    expect(recorder.view('n3')!.peers!.find((p) => p.node === 'n2')!.port).toBe(10251);
  });

  it('holds only the nodes running Service endpoints beyond 1,000 nodes; a join without any sends nothing', async () => {
    t = await openTestResources();
    const count = PEERS_TO_EVERY_NODE_MAX + 2;
    for (let i = 1; i <= count; i++) await t.resources.create(resourceTypes.nodes, node(i));
    await t.resources.create(resourceTypes.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.0.10', selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    await t.resources.create(resourceTypes.endpoints, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.42.5.7' }], ports: [{ port: 8080 }] }],
    });
    const recorder = desiredRecorder();
    await start(recorder);
    expect(recorder.lastPart('peers')!.peers.map((p) => p.node)).toEqual(['n5']);
    const parts = recorder.parts.filter((p) => p.part === 'peers').length;
    await t.resources.create(resourceTypes.nodes, node(count + 1));
    await settle();
    expect(recorder.parts.filter((p) => p.part === 'peers').length).toBe(parts);
  }, 120_000);
});
