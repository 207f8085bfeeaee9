import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredStateMessage } from '../../../api/mqtt/messages.js';
import type { NodeChannel } from '../../../control-plane/node-channel/node-channel.js';
import { DESIRED_PUBLISH_WORKERS, DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

/** A channel whose publishes wait for the broker's acknowledgement until `release()`: a slow broker under load. */
function slowChannel(): NodeChannel & { inFlight: number; maxInFlight: number; published: DesiredStateMessage[]; release(): void } {
  let gate!: () => void;
  const acked = new Promise<void>((resolve) => { gate = resolve; });
  const c = {
    inFlight: 0, maxInFlight: 0, published: [] as DesiredStateMessage[], release: () => gate(),
    start: async () => {},
    publishDesired: async (m: DesiredStateMessage) => {
      c.maxInFlight = Math.max(c.maxInFlight, ++c.inFlight);
      await acked;
      c.inFlight--;
      c.published.push(m);
    },
    publishDesiredPart: async () => {},
    clearRetained: async () => {},
    retainedNodes: async () => new Set<string>(),
    call: async () => undefined,
    stop: async () => {},
  };
  return c;
}

describe('DesiredPublisher with a slow broker', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('has publishes to many nodes in flight at once: waiting for acknowledgements does not serialise a fleet', async () => {
    t = await openTestResources();
    const nodes = DESIRED_PUBLISH_WORKERS + 8;
    for (let i = 0; i < nodes; i++) await t.resources.create(resourceTypes.nodes, aNode(`n${i}`));
    const channel = slowChannel();
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: t.resources, channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    for (let i = 0; i < 2000 && channel.inFlight < DESIRED_PUBLISH_WORKERS; i++) await new Promise((r) => setImmediate(r));
    expect(DESIRED_PUBLISH_WORKERS).toBeGreaterThanOrEqual(32);
    expect(channel.maxInFlight).toBe(DESIRED_PUBLISH_WORKERS);
    channel.release();
    await publisher.idle();
    expect(new Set(channel.published.map((m) => m.node)).size).toBe(nodes);
  });
});
