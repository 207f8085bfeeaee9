// EndpointSlice mirroring over the store, with every controller running: hand-written Endpoints of
// a Service without a selector become EndpointSlices (per subset and family, ready and not-ready
// addresses, ports, labels, owned by the Endpoints), follow changes, and go when the Service gets
// a selector, the Endpoints are skip-mirror or deleted; the kubernetes Service and its Endpoints;
// the plan with hostile Endpoints (seeded fuzz).
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startControllers, type RunningControllers } from '../../../control-plane/controllers/controller-manager.js';
import { planMirroredSlices } from '../../../control-plane/controllers/endpointslicemirroring/mirroring-plan.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { EndpointSlice, Endpoints, Service } from '../../../control-plane/resources/kinds/services.js';
import { ensureKubernetesService } from '../../../control-plane/resources/kubernetes-service.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hostileJson, seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const { services, endpoints: endpointsType, endpointslices } = resourceTypes;

const service = (name: string, selector?: Record<string, string>): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { ports: [{ name: 'db', port: 5432 }], ...(selector ? { selector } : {}) },
});
const endpoints = (name: string, subsets: Endpoints['subsets'], labels?: Record<string, string>): Endpoints => ({
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, subsets,
});

describe('EndpointSlice mirroring', () => {
  let t: TestResources;
  let controllers: RunningControllers;
  beforeEach(async () => {
    t = await openTestResources();
    controllers = startControllers({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
  });
  afterEach(async () => {
    controllers.stop();
    await t.close();
  });

  async function until<T>(what: string, get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 500; i++) {
      await controllers.idle();
      const value = await get();
      if (done(value)) return value;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`never happened: ${what}`);
  }
  const slices = async (service = 'db') => (await t.resources.list<EndpointSlice>(endpointslices, { namespace: 'default', labelSelector: `kubernetes.io/service-name=${service}` })).items
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));

  it('mirrors hand-written Endpoints of a Service without a selector, follows them, and lets go', async () => {
    await t.resources.create(services, service('db'));
    const created = await t.resources.create<Endpoints>(endpointsType, endpoints('db', [
      { addresses: [{ ip: '192.0.2.10', hostname: 'db-0' }, { ip: '2001:db8::1' }], notReadyAddresses: [{ ip: '192.0.2.11' }], ports: [{ name: 'db', port: 5432 }] },
    ], { team: 'data' }));
    const mirrored = await until('mirrored', () => slices(), (s) => s.length === 2);
    expect(mirrored.map((s) => [s.metadata.name, s.addressType])).toEqual([['db-ipv4-0', 'IPv4'], ['db-ipv6-0', 'IPv6']]);
    expect(mirrored[0]!.endpoints).toEqual([
      { addresses: ['192.0.2.10'], conditions: { ready: true }, hostname: 'db-0' },
      { addresses: ['192.0.2.11'], conditions: { ready: false } },
    ]);
    expect(mirrored[0]!.ports).toEqual([{ name: 'db', port: 5432, protocol: 'TCP' }]);
    expect(mirrored[0]!.metadata.labels).toEqual({ team: 'data', 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    expect(mirrored[0]!.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    await t.resources.mutate<Endpoints>(endpointsType, 'default', 'db', (e) => ({ ...e, subsets: [{ addresses: [{ ip: '192.0.2.20' }], ports: [{ port: 5433 }] }] }));
    const changed = await until('followed', () => slices(), (s) => s.length === 1 && s[0]!.endpoints[0]?.addresses[0] === '192.0.2.20');
    expect(changed[0]!.ports).toEqual([{ name: '', port: 5433, protocol: 'TCP' }]);

    await t.resources.mutate<Endpoints>(endpointsType, 'default', 'db', (e) => ({ ...e, metadata: { ...e.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }));
    await until('skip-mirror removes them', () => slices(), (s) => s.length === 0);
    await t.resources.mutate<Endpoints>(endpointsType, 'default', 'db', (e) => ({ ...e, metadata: { ...e.metadata, labels: {} } }));
    await until('mirrored again', () => slices(), (s) => s.length === 1);
    await t.resources.delete(endpointsType, 'default', 'db');
    await until('gone with the Endpoints', () => slices(), (s) => s.length === 0);
  });

  it('leaves Services with a selector to the endpoints controller', async () => {
    await t.resources.create(services, service('web', { app: 'web' }));
    await until('endpoints controller wrote its Endpoints', () => t.resources.get<Endpoints>(endpointsType, 'default', 'web').catch(() => undefined), Boolean);
    const own = await slices('web');
    expect(own.map((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'])).toEqual(['endpointslice-controller.k8s.io']);
  });

  it('keeps the kubernetes Service and its Endpoints on the API server, mirrored', async () => {
    await ensureKubernetesService(t.resources, { host: '127.0.0.1', port: 6443 });
    await ensureKubernetesService(t.resources, { host: '0.0.0.0', port: 16443 }); // a restart on another port
    const svc = await t.resources.get<Service>(services, 'default', 'kubernetes');
    expect(svc.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
    expect(svc.spec.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: 16443 }]);
    expect((await t.resources.get<Endpoints>(endpointsType, 'default', 'kubernetes')).subsets).toEqual([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 16443, protocol: 'TCP' }] }]);
    const mirrored = await until('kubernetes mirrored', () => slices('kubernetes'), (s) => s.length === 1);
    expect(mirrored[0]!.endpoints).toEqual([{ addresses: ['127.0.0.1'], conditions: { ready: true } }]);
  });

  it('plans hostile Endpoints without a throw (seeded fuzz)', () => {
    const next = seededRandom(4242);
    for (let i = 0; i < 500; i++) {
      const e = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'x', namespace: 'default', labels: { a: 'b' } }, subsets: hostileJson(next, 4) } as Endpoints;
      for (const { slice } of planMirroredSlices(e)) {
        expect(slice.endpoints.length).toBeGreaterThan(0);
        for (const p of slice.ports ?? []) expect(p.port).toBeGreaterThanOrEqual(1);
      }
    }
  });
});
