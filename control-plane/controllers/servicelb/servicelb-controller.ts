// ServiceLB, as K3s's: a LoadBalancer Service is served by every node on its `port` (the agents
// listen on <node-ip>:<port>, agent/network/node-ports.ts, told through the desired state), and its
// status.loadBalancer.ingress lists the Ready nodes' InternalIPs. Two LoadBalancers wanting one port:
// the older keeps it (servicelb-plan.ts); the other stays pending (no ingress) with a Warning
// SyncLoadBalancerFailed event saying which Service holds the port, and gets its ports when freed.
// A node whose agent could not bind a Service's port (in use by another process on the node,
// EACCES: the Node's unserved-ports annotation, api/unserved-ports.ts) gives the Service a Warning
// PortUnavailable event naming node and port, and is left out of the LoadBalancer's ingress.
import type { Node } from '../../../api/types/node.js';
import { unservedPortsOf, UNSERVED_PORTS_ANNOTATION } from '../../../api/unserved-ports.js';
import type { Service } from '../../resources/kinds/services.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import { byName } from '../../reconcile/owned-objects.js';
import { isServiceLB, planLoadBalancers } from './servicelb-plan.js';

const ALL = 'all';

const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const internalIP = (n: Node) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

export class ServiceLBController extends Controller {
  /** What each LoadBalancer was last told (event on change only). */
  readonly #said = new Map<string, string>();
  /** What each NodePort/LoadBalancer Service was last told about ports nodes could not bind. */
  readonly #portsSaid = new Map<string, string>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'service-lb-controller', 1);
  }

  start(): void {
    this.watch<Service>(resourceTypes.services, () => this.enqueue(ALL));
    // only a node's readiness and address matter (not its heartbeats)
    const shapes = new Map<string, string>();
    this.watch<Node>(resourceTypes.nodes, (type, node) => {
      const shape = type === 'DELETED' ? '' : `${isReady(node)}/${internalIP(node) ?? ''}/${node.metadata.annotations?.[UNSERVED_PORTS_ANNOTATION] ?? ''}`;
      if (shapes.get(node.metadata.name!) === shape) return;
      if (type === 'DELETED') shapes.delete(node.metadata.name!);
      else shapes.set(node.metadata.name!, shape);
      this.enqueue(ALL);
    });
  }

  async reconcile(): Promise<void> {
    const { resources } = this.ctx;
    const services = { items: byName((await this.cache<Service>(resourceTypes.services)).list()) };
    // no LoadBalancer: nothing reads the nodes (a join of 10,000 agents sorted all nodes per join)
    if (!services.items.some(isServiceLB)) return;
    const nodes = { items: (await this.cache<Node>(resourceTypes.nodes)).list() };
    const plan = planLoadBalancers(services.items);
    const ready = nodes.items.filter(isReady);
    // service -> the ports Ready nodes could not bind for it
    const unserved = new Map<string, Array<{ node: string; ip: string; port: number; code: string }>>();
    for (const node of ready) {
      for (const u of unservedPortsOf(node)) {
        const list = unserved.get(u.service) ?? [];
        list.push({ node: node.metadata.name!, ip: internalIP(node) ?? '', port: u.port, code: u.code });
        unserved.set(u.service, list);
      }
    }
    for (const svc of services.items.filter((s) => s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer')) {
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const failures = (unserved.get(key) ?? []).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : a.port - b.port));
      const saying = failures.map((f) => `node ${f.node}${f.ip ? ` (${f.ip})` : ''} cannot bind port ${f.port}/TCP: ${f.code}${f.code === 'EADDRINUSE' ? ' (in use by another process on the node)' : ''}`).join('; ');
      if ((this.#portsSaid.get(key) ?? '') === saying) continue;
      this.#portsSaid.set(key, saying);
      if (saying) this.recordEvent(svc, 'Warning', 'PortUnavailable', `${saying}; that node does not serve this port until it is free (tried again every 10 s)`);
    }
    for (const svc of services.items.filter(isServiceLB)) {
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const lbPorts = new Set((svc.spec.ports ?? []).map((p) => p.port));
      const failing = new Set((unserved.get(key) ?? []).filter((f) => lbPorts.has(f.port)).map((f) => f.node));
      const ips = [...new Set(ready.filter((n) => !failing.has(n.metadata.name!)).map(internalIP).filter((ip): ip is string => !!ip))].sort();
      const admitted = plan.admitted.has(key);
      const loadBalancer = admitted && ips.length > 0 ? { ingress: ips.map((ip) => ({ ip })) } : {};
      if (stableStringify(svc.status?.loadBalancer ?? {}) !== stableStringify(loadBalancer)) {
        await resources.mutate<Service>(resourceTypes.services, svc.metadata.namespace, svc.metadata.name!,
          (s) => (s.metadata.uid === svc.metadata.uid ? { ...s, status: { ...s.status, loadBalancer } } : undefined), { subresource: 'status' })
          .catch((e: Error) => this.ctx.logger.debug({ service: key, err: e.message }, 'service-lb: status not written'));
      }
      const saying = admitted ? `admitted ${ips.join(',')}` : plan.pending.get(key) ?? '';
      if (this.#said.get(key) === saying) continue;
      this.#said.set(key, saying);
      if (!admitted) {
        this.recordEvent(svc, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${saying}; the Service stays pending until the port is free`);
      } else {
        this.recordEvent(svc, 'Normal', 'EnsuredLoadBalancer', `Ensured load balancer: ports served on ${failing.size ? 'the nodes' : 'every node'}${ips.length ? ` (${ips.join(', ')})` : ''}`);
      }
    }
    const live = new Set(services.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    for (const key of this.#said.keys()) if (!live.has(key)) this.#said.delete(key);
    for (const key of this.#portsSaid.keys()) if (!live.has(key)) this.#portsSaid.delete(key);
  }
}
