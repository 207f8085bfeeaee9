// The real DesiredPublisher over test resources, sending to a DesiredRecorder, and a settle() that
// waits until every change so far is published (for publisher tests).
import pino from 'pino';
import { DesiredPublisher, type DesiredPublisherOptions } from '../../../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import type { DesiredRecorder } from './desired-recorder.js';
import type { TestResources } from './test-resources.js';

export interface RecordedPublisher {
  publisher: DesiredPublisher;
  /** Resolves once what was changed so far is published (several idle rounds: informer events come on later turns). */
  settle(): Promise<void>;
}

export async function startRecordedPublisher(t: TestResources, recorder: DesiredRecorder, options: Partial<DesiredPublisherOptions> = {}): Promise<RecordedPublisher> {
  const registry = new ComponentRegistry(t.store, '/nonexistent');
  const publisher = new DesiredPublisher({
    resources: t.resources, channel: recorder.channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
    cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }), ...options,
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      await publisher.idle();
      await new Promise((r) => setImmediate(r));
    }
  };
  await publisher.start();
  await settle();
  return { publisher, settle };
}
