// The EndpointSlice mirroring controller (Kubernetes' endpointslicemirroring): for each Service
// without a selector, the Endpoints someone wrote by hand are mirrored to EndpointSlices
// (mirroring-plan.ts), labelled kubernetes.io/service-name and managed-by
// endpointslicemirroring-controller.k8s.io, owned by the Endpoints. The slices go when the
// Endpoints or the Service go, when the Service gets a selector (the endpoints controller takes
// over), or when the Endpoints are labelled endpointslice.kubernetes.io/skip-mirror=true.
import { NotFoundError } from '../../../api/errors.js';
import type { EndpointSlice, Endpoints, Service } from '../../resources/kinds/services.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../controller-base.js';
import { objectKeyOf, splitKey } from '../controller-ref.js';
import { MANAGED_BY_LABEL, MIRRORING_MANAGER, planMirroredSlices, SERVICE_NAME_LABEL, SKIP_MIRROR_LABEL } from './mirroring-plan.js';

const orUndefined = <T>(promise: Promise<T>) => promise.catch((e: Error) => {
  if (e instanceof NotFoundError) return undefined;
  throw e;
});

export class EndpointSliceMirroringController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'endpointslice-mirroring-controller');
  }

  start(): void {
    this.watch<Endpoints>(resourceTypes.endpoints, (_t, e) => this.enqueue(objectKeyOf(e)));
    this.watch<Service>(resourceTypes.services, (_t, s) => this.enqueue(objectKeyOf(s)));
    this.watch<EndpointSlice>(resourceTypes.endpointslices, (_t, s) => {
      const service = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (s.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_MANAGER && service) this.enqueue(`${s.metadata.namespace}/${service}`);
    });
  }

  async reconcile(key: string): Promise<void> {
    const { resources } = this.ctx;
    const { namespace, name } = splitKey(key);
    const [service, endpoints] = await Promise.all([
      orUndefined(resources.get<Service>(resourceTypes.services, namespace, name)),
      orUndefined(resources.get<Endpoints>(resourceTypes.endpoints, namespace, name)),
    ]);
    const mirror = service && endpoints && !service.metadata.deletionTimestamp && !endpoints.metadata.deletionTimestamp
      && (!service.spec?.selector || Object.keys(service.spec.selector).length === 0)
      && endpoints.metadata.labels?.[SKIP_MIRROR_LABEL] !== 'true';
    const desired = mirror ? planMirroredSlices(endpoints) : [];
    const existing = (await resources.list<EndpointSlice>(resourceTypes.endpointslices, { namespace })).items
      .filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_MANAGER && s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
    const owner = endpoints && [{ apiVersion: 'v1', kind: 'Endpoints', name, uid: endpoints.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    for (const { name: sliceName, slice } of desired) {
      const current = existing.find((s) => s.metadata.name === sliceName);
      const wanted: EndpointSlice = { ...slice, metadata: { ...slice.metadata, ...(owner ? { ownerReferences: owner } : {}) } };
      if (!current) {
        await resources.create<EndpointSlice>(resourceTypes.endpointslices, wanted);
      } else if (stableStringify([current.endpoints, current.ports ?? [], current.metadata.labels ?? {}, current.addressType])
        !== stableStringify([wanted.endpoints, wanted.ports ?? [], wanted.metadata.labels ?? {}, wanted.addressType])) {
        await resources.mutate<EndpointSlice>(resourceTypes.endpointslices, namespace, sliceName, (c) => ({
          ...wanted, metadata: { ...c.metadata, labels: wanted.metadata.labels!, ...(owner ? { ownerReferences: owner } : {}) },
        }));
      }
    }
    for (const stale of existing) {
      if (desired.some((d) => d.name === stale.metadata.name)) continue;
      await resources.delete(resourceTypes.endpointslices, namespace, stale.metadata.name!).catch((e: Error) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
    }
  }
}
