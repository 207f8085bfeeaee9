// The endpoints controller: for each Service with a selector, writes an Endpoints object of the same
// name and one EndpointSlice (label kubernetes.io/service-name) from the matching pods.
import { NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import { objectKeyOf, splitKey } from '../controller-ref.js';
import type { EndpointSlice, Endpoints, Service } from '../workload-kinds.js';
import { planEndpoints } from './endpoints-plan.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export class EndpointsController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'endpoint-controller');
  }

  start(): void {
    this.watch<Service>(resourceTypes.services, (_t, svc) => this.enqueue(objectKeyOf(svc)));
    // the Services that select the pod now, or did before its labels changed
    this.watch<Pod>(resourceTypes.pods, (_t, pod, old) => {
      for (const svc of this.informers.for<Service>(resourceTypes.services).byIndex('namespace', pod.metadata.namespace!)) {
        const sel = svc.spec.selector;
        if (!sel || !Object.keys(sel).length) continue;
        const selects = (p: Pod | undefined) => Boolean(p) && Object.entries(sel).every(([k, v]) => p!.metadata.labels?.[k] === v);
        if (selects(pod) || selects(old)) this.enqueue(objectKeyOf(svc));
      }
    });
  }

  async reconcile(key: string): Promise<void> {
    const { resources } = this.ctx;
    const { namespace, name } = splitKey(key);
    const svc = await resources.get<Service>(resourceTypes.services, namespace, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!svc) {
      // the slice goes with its owner (GC); Endpoints carry no owner, so they are removed here
      await resources.delete(resourceTypes.endpoints, namespace, name).catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
      return;
    }
    // without a selector its endpoints are managed by someone else
    if ( !svc.spec.selector || Object.keys(svc.spec.selector).length === 0 || svc.metadata.deletionTimestamp) return;
    const pods = byName((await this.cache<Pod>(resourceTypes.pods)).byLabels(namespace, svc.spec.selector));
    const plan = planEndpoints(svc, pods);
    const owner = [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const labels = { ...svc.metadata.labels, [SERVICE_NAME_LABEL]: name };
    const endpoints: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: namespace!, labels }, subsets: plan.subsets };
    await this.#upsert<Endpoints>(resourceTypes.endpoints, endpoints, (e) => stableStringify(e.subsets ?? []) === stableStringify(plan.subsets));
    // as the server defaults them (discovery/v1 ports always carry a name, "" when the Service's has none)
    const slicePorts = plan.slicePorts.map((p) => ({ name: '', ...p }));
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${name}-skiff`, namespace: namespace!, labels: { ...labels, [MANAGED_BY]: 'endpointslice-controller.k8s.io' }, ownerReferences: owner },
      endpoints: plan.sliceEndpoints,
      ports: slicePorts,
    };
    await this.#upsert<EndpointSlice>(resourceTypes.endpointslices, slice,
      (s) => stableStringify([s.endpoints, s.ports ?? []]) === stableStringify([plan.sliceEndpoints, slicePorts]));
  }

  async #upsert<T extends Endpoints | EndpointSlice>(type: typeof resourceTypes.endpoints, desired: T, same: (current: T) => boolean): Promise<void> {
    const { resources } = this.ctx;
    const current = await resources.get<T>(type, desired.metadata.namespace, desired.metadata.name!).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!current) {
      await resources.create<T>(type, desired);
      return;
    }
    if (same(current)) return;
    await resources.mutate<T>(type, desired.metadata.namespace, desired.metadata.name!, (c) => ({ ...desired, metadata: { ...c.metadata, labels: desired.metadata.labels } }));
  }
}
