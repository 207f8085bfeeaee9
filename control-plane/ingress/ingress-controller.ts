// skiff's Ingress controller: rebuilds the gateway's routing table whenever an Ingress,
// IngressClass or Service changes, sets status.loadBalancer.ingress of skiff's Ingresses to the
// gateway's address (when the control plane serves Ingress) and the InternalIPs of the Ready nodes
// that serve Ingress themselves (decision 075), and records Warning events on an Ingress whose backends name a Service that
// does not exist (ServiceNotFound) or a port the Service lacks (ServicePortNotFound), once per
// change. The default IngressClass `skiff` is created at bootstrap (ensureIngressClass).
import { AlreadyExistsError } from '../../api/errors.js';
import { Controller, type ControllerContext } from '../reconcile/controller.js';
import type { Ingress, IngressBackend, IngressClass, Service } from '../resources/kinds/services.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { stableStringify } from '../resources/stable-stringify.js';
import type { Node } from '../../api/types/node.js';
import { ingressPortsOf } from '../../api/ingress/ingress-ports.js';
import { DEFAULT_CLASS_ANNOTATION, IngressTable, SKIFF_INGRESS_CLASS, SKIFF_INGRESS_CONTROLLER, skiffIngresses } from '../../api/ingress/ingress-router.js';

const ALL = 'all';

/** Creates the IngressClass `skiff`, annotated as the cluster's default, unless it exists. */
export async function ensureIngressClass(resources: ResourceStore): Promise<void> {
  const ic: IngressClass = {
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name: SKIFF_INGRESS_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    spec: { controller: SKIFF_INGRESS_CONTROLLER },
  };
  await resources.create(resourceTypes.ingressclasses, ic).catch((err: unknown) => {
    if (!(err instanceof AlreadyExistsError)) throw err;
  });
}

/** What is wrong with the Ingress's backends (unknown Services and ports), one line each. */
export function backendProblems(ing: Ingress, services: ReadonlyMap<string, Service>): Array<{ reason: string; message: string }> {
  const namespace = ing.metadata.namespace ?? 'default';
  const backends: IngressBackend[] = [
    ...(ing.spec?.defaultBackend ? [ing.spec.defaultBackend] : []),
    ...(ing.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
  ];
  const out = new Map<string, { reason: string; message: string }>();
  for (const b of backends) {
    if (!b.service?.name) continue;
    const svc = services.get(`${namespace}/${b.service.name}`);
    if (!svc) {
      out.set(`s/${b.service.name}`, { reason: 'ServiceNotFound', message: `Service "${namespace}/${b.service.name}" not found` });
      continue;
    }
    const port = b.service.port ?? {};
    const known = (svc.spec.ports ?? []).some((p) => (port.number !== undefined ? p.port === port.number : p.name === port.name));
    if (!known) {
      out.set(`p/${b.service.name}/${port.number ?? port.name}`, { reason: 'ServicePortNotFound', message: `Service "${namespace}/${b.service.name}" has no port ${port.number ?? JSON.stringify(port.name ?? '')}` });
    }
  }
  return [...out.values()];
}

export class IngressController extends Controller {
  readonly #said = new Map<string, string>();

  /** `gateway` and its `address` absent: the control plane serves no Ingress port (the nodes may). */
  constructor(ctx: ControllerContext, private readonly gateway?: { setTable(table: IngressTable): void }, private readonly address?: string) {
    super(ctx, 'ingress-controller', 1);
  }

  start(): void {
    this.watch<Ingress>(resourceTypes.ingresses, () => this.enqueue(ALL));
    this.watch<IngressClass>(resourceTypes.ingressclasses, () => this.enqueue(ALL));
    this.watch<Service>(resourceTypes.services, () => this.enqueue(ALL));
    this.watch<Node>(resourceTypes.nodes, (_event, node, old) => {
      if (servingAddress(node) !== (old ? servingAddress(old) : undefined)) this.enqueue(ALL);
    });
  }

  async reconcile(): Promise<void> {
    const { resources } = this.ctx;
    const [ingresses, classes, services, nodes] = await Promise.all([
      resources.list<Ingress>(resourceTypes.ingresses),
      resources.list<IngressClass>(resourceTypes.ingressclasses),
      resources.list<Service>(resourceTypes.services),
      resources.list<Node>(resourceTypes.nodes),
    ]);
    const ours = skiffIngresses(ingresses.items, classes.items).filter((i) => !i.metadata.deletionTimestamp);
    this.gateway?.setTable(new IngressTable(ours));
    const byKey = new Map(services.items.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
    const ips = [...new Set(nodes.items.map(servingAddress).filter((ip): ip is string => ip !== undefined))].sort();
    const addresses = [...(this.address ? [this.address] : []), ...ips.filter((ip) => ip !== this.address)];
    const loadBalancer = addresses.length ? { ingress: addresses.map((ip) => ({ ip })) } : {};
    const live = new Set<string>();
    for (const ing of ours) {
      const key = `${ing.metadata.namespace}/${ing.metadata.name}`;
      live.add(key);
      if (stableStringify(ing.status?.loadBalancer ?? {}) !== stableStringify(loadBalancer)) {
        await resources.mutate<Ingress>(resourceTypes.ingresses, ing.metadata.namespace, ing.metadata.name!,
          (i) => (i.metadata.uid === ing.metadata.uid ? { ...i, status: { ...i.status, loadBalancer } } : undefined), { subresource: 'status' })
          .catch((e: Error) => this.ctx.logger.debug({ ingress: key, err: e.message }, 'ingress: status not written'));
      }
      const problems = backendProblems(ing, byKey);
      const saying = stableStringify(problems);
      if (this.#said.get(key) === saying) continue;
      this.#said.set(key, saying);
      for (const p of problems) this.recordEvent(ing, 'Warning', p.reason, p.message);
    }
    for (const key of this.#said.keys()) if (!live.has(key)) this.#said.delete(key);
  }
}

/** The InternalIP of a Ready node that serves Ingress on it (its ingress-ports annotation), else undefined. */
export function servingAddress(node: Node): string | undefined {
  if (!ingressPortsOf(node)) return undefined;
  if (node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return undefined;
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}
