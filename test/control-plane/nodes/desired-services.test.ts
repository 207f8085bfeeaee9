// The Services in every node's desired state: ClusterIP, ports and Ready endpoint addresses
// (compact), in the one cluster-wide Services part, republished when a Service or its Endpoints change.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServicesPartMessage } from '../../../api/mqtt/desired-parts.js';
import { desiredRecorder } from '../support/desired-recorder.js';
import { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import type { Endpoints } from '../../../control-plane/resources/kinds/services.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

describe('Services in the desired state', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('carries every Service with its Ready endpoints to every node, and follows Endpoints changes', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const { channel } = recorder;
    await t.resources.create(resourceTypes.nodes, aNode('n1'));
    await t.resources.create(resourceTypes.pods, aPod('p', { nodeName: 'n1' }));
    await t.resources.create(resourceTypes.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-svc', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await t.resources.create(resourceTypes.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'sticky', namespace: 'default' },
      spec: { selector: { app: 's' }, ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    });
    await t.resources.create(resourceTypes.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com' },
    });
    const endpoints: Endpoints = {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web-svc', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.42.0.3' }, { ip: '10.42.0.2' }], notReadyAddresses: [{ ip: '10.42.0.4' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    };
    await t.resources.create(resourceTypes.endpoints, endpoints);
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: t.resources, channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    const until = async (done: (m: ServicesPartMessage | undefined) => boolean) => {
      for (let i = 0; i < 200 && !done(recorder.lastPart('services')); i++) {
        await publisher!.idle();
        await new Promise((r) => setImmediate(r));
      }
      return recorder.lastPart('services')!;
    };
    const first = await until((m) => Boolean(m?.services?.length));
    expect(first.services!.map((svc) => svc.name)).toEqual(['ext', 'sticky', 'web-svc']);
    expect(first.services![0]).toEqual({ namespace: 'default', name: 'ext', externalName: 'example.com', ports: [], endpoints: [] }); // a CNAME
    expect(first.services![1]).toMatchObject({ sessionAffinity: 'ClientIP', affinitySeconds: 60, endpoints: [] });
    const web = first.services![2];
    expect(web).toMatchObject({ namespace: 'default', name: 'web-svc', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    expect(web!.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(web!.endpoints).toEqual([{ ips: ['10.42.0.2', '10.42.0.3'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);

    await t.resources.mutate<Endpoints>(resourceTypes.endpoints, 'default', 'web-svc', (e) => ({ ...e, subsets: [{ addresses: [{ ip: '10.42.0.3' }], ports: [{ name: 'http', port: 8080 }] }] }));
    const next = await until((m) => m?.services?.[2]?.endpoints[0]?.ips.length === 1);
    expect(next.services![2]!.endpoints).toEqual([{ ips: ['10.42.0.3'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
    expect(next.generation).toBeGreaterThan(first.generation);
    expect(next.hash).not.toBe(first.hash);
    // the node's pods message leaves the Services to their part, and an agent combines them
    expect(recorder.published.every((m) => m.services === undefined && m.parts?.includes('services'))).toBe(true);
    expect(recorder.view('n1')!.services).toEqual(next.services);
  });
});
