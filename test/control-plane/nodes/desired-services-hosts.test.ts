// A headless Service's hostnames in the desired state (StatefulSet pod DNS): the published
// addresses with a DNS-label hostname, sorted; none for ClusterIP Services or not-ready addresses.
import { afterEach, describe, expect, it } from 'vitest';
import { desiredServices } from '../../../control-plane/nodes/desired-services.js';
import type { Endpoints } from '../../../control-plane/resources/kinds/services.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

describe('headless Service hosts in the desired state', () => {
  let t: TestResources | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('carries hostnames of published addresses only, for headless Services only', async () => {
    t = await openTestResources();
    for (const [name, clusterIP] of [['web', 'None'], ['plain', undefined]] as const) {
      await t.resources.create(resourceTypes.services, {
        apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
        spec: { ...(clusterIP ? { clusterIP } : {}), selector: { app: name }, ports: [{ port: 8080 }] },
      });
      const endpoints: Endpoints = {
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' },
        subsets: [{
          addresses: [{ ip: '10.42.0.8', hostname: 'web-1' }, { ip: '10.42.0.7', hostname: 'web-0' }, { ip: '10.42.0.9', hostname: '../Evil.x' }, { ip: '10.42.0.10' }],
          notReadyAddresses: [{ ip: '10.42.0.11', hostname: 'web-2' }],
          ports: [{ port: 8080 }],
        }],
      };
      await t.resources.create(resourceTypes.endpoints, endpoints);
    }
    const services = await desiredServices(t.resources);
    const web = services.find((s) => s.name === 'web')!;
    expect(web.clusterIP).toBe('None');
    expect(web.hosts).toEqual([{ hostname: 'web-0', ip: '10.42.0.7' }, { hostname: 'web-1', ip: '10.42.0.8' }]);
    expect(services.find((s) => s.name === 'plain')!.hosts).toBeUndefined();
  });
});
