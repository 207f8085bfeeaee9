import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, type DesiredStateMessage } from '../../../api/mqtt/messages.js';
import type { Pod } from '../../../api/types/pod.js';
import type { NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import type { Store } from '../../../control-plane/store/store.js';
import type { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

/** Records what would go out over MQTT (a stand-in for the channel in a unit test of the publisher). */
function recordingChannel(): NodeChannel & { published: DesiredStateMessage[] } {
  const published: DesiredStateMessage[] = [];
  return {
    published,
    start: async () => {},
    publishDesired: async (m) => {
      published.push(m);
    },
    publishDesiredPart: async () => {},
    clearRetained: async () => {},
    retainedNodes: async () => new Set(),
    call: async () => undefined,
    stop: async () => {},
  };
}

describe('DesiredPublisher', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('sends finished pods as small entries, so a node with hundreds of them stays under the message limit', async () => {
    t = await openTestResources();
    for (let i = 0; i < 300; i++) {
      await t.resources.create(resourceTypes.pods, aPod(`done-${i}`, { nodeName: 'n1' }));
      await t.resources.mutate<Pod>(resourceTypes.pods, 'default', `done-${i}`, (p) => ({ ...p, status: { ...p.status, phase: 'Succeeded' } }), { subresource: 'status' });
    }
    await t.resources.create(resourceTypes.pods, aPod('running', { nodeName: 'n1' }));
    const channel = recordingChannel();
    publisher = new DesiredPublisher({
      resources: t.resources, channel, ...registryParts(t.store, t.resources),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    await t.resources.create(resourceTypes.pods, aPod('trigger', { nodeName: 'n1' }));
    for (let i = 0; i < 100 && !channel.published.some((m) => m.pods.length === 302); i++) {
      await publisher.idle();
      await new Promise((r) => setImmediate(r));
    }
    const message = channel.published.at(-1)!;
    expect(message.pods).toHaveLength(302);
    expect(message.pods.filter((p) => p.finished)).toHaveLength(300);
    const running = message.pods.find((p) => p.pod.metadata.name === 'running')!;
    expect(running.finished).toBeUndefined();
    expect(running.pod.spec['restartPolicy']).toBe('Always');
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(MAX_PAYLOAD_BYTES);
  });

  it('holds back a pod bound to a node with a pod CIDR until it has an address, unless it already ran', async () => {
    t = await openTestResources();
    const node = aNode('n1');
    expect(node.spec.podCIDR).toBeTruthy();
    await t.resources.create(resourceTypes.nodes, node);
    await t.resources.create(resourceTypes.pods, aPod('static', { nodeName: 'n1' }));
    await t.resources.create(resourceTypes.pods, aPod('ran', { nodeName: 'n1' }));
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'ran', (p) => ({ ...p, status: { ...p.status, phase: 'Running', containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }] } }), { subresource: 'status' });
    const channel = recordingChannel();
    publisher = new DesiredPublisher({
      resources: t.resources, channel, ...registryParts(t.store, t.resources),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    const names = async (done: (names: string[]) => boolean) => {
      for (let i = 0; i < 100; i++) {
        await publisher!.idle();
        const last = channel.published.at(-1)?.pods.map((p) => p.pod.metadata.name).sort();
        if (last && done(last)) return last;
        await new Promise((r) => setImmediate(r));
      }
      throw new Error(`not published: ${JSON.stringify(channel.published.at(-1)?.pods.map((p) => p.pod.metadata.name))}`);
    };
    expect(await names((n) => n.includes('ran'))).toEqual(['ran']);
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'static', (p) => ({ ...p, metadata: { ...p.metadata, annotations: { 'skiff.dev/pod-ip': '10.42.1.9' } } }));
    expect(await names((n) => n.includes('static'))).toEqual(['ran', 'static']);
    expect(channel.published.at(-1)!.pods.find((p) => p.pod.metadata.name === 'static')!.podIP).toBe('10.42.1.9');
  });
});

/** The cluster registry (empty) and the resolver over it. */
function registryParts(store: Store, resources: ResourceStore) {
  const registry = new ComponentRegistry(store, '/nonexistent');
  return { registry, images: new ImageResolver({ registry, resources, registryUrl: 'https://cp' }) };
}
