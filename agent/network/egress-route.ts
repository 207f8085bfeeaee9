// A pod's request to an address or name outside the cluster. Unlike traffic between pods (open
// unless a NetworkPolicy restricts it), egress out of the cluster is denied unless the agent
// allows the address (--allow-egress CIDR) or a rule of a NetworkPolicy selecting the pod for
// egress allows it (an ipBlock, or a rule without peers); a policy selecting the pod may still
// deny it as for any peer. Outside names resolve through the agent's resolver only for pods that
// may reach some outside address; the connection then goes to the first allowed address.
import { cidrContains, parseCidr, parseIP } from '../../api/cidr.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import type { DesiredService } from '../../api/mqtt/messages.js';
import type { Destination } from './authority.js';
import type { Egress } from './egress.js';
import { checkEgress, type PolicyEnd } from './policy-check.js';
import type { NetworkPolicies, Protocol } from './policy-rules.js';

export interface EgressContext {
  policies: NetworkPolicies;
  egress: Egress;
}

const NODE_ONLY = ['127.0.0.0/8', '169.254.0.0/16', '0.0.0.0/32', '::1/128', '::/128', 'fe80::/10', '::ffff:127.0.0.0/104', '::ffff:169.254.0.0/112']
  .map((text) => parseCidr(text)!);

/** The node's own addresses (loopback, link-local: cloud metadata, unspecified): never open to a policy alone. */
function isNodeOnly(ip: string): boolean {
  const address = parseIP(ip);
  return !address || NODE_ONLY.some((cidr) => cidrContains(cidr, address));
}

/** Whether `source` may resolve and reach outside names at all. */
export function mayReachOutside(context: EgressContext, source: PolicyEnd | undefined): boolean {
  return context.egress.allowsAny || Boolean(source && context.policies.mayReachOutside(source.ip));
}

/** Throws the guest's error when `source` may not reach `ip`:`port` outside the cluster. */
export function checkOutside(context: EgressContext, source: PolicyEnd | undefined, ip: string, port: number, protocol: Protocol = 'TCP'): void {
  const verdict = source ? context.policies.egress(source.ip, ip, port, protocol) : { allowed: true as const, selected: false };
  if (!verdict.allowed) checkEgress(context.policies, source!, { ip }, port, protocol); // throws, naming the policies
  if (context.egress.allows(ip)) return;
  if (isNodeOnly(ip)) {
    throw new PodNetworkError('destination-IP-prohibited', `egress to ${ip}:${port} is denied: the node's loopback, link-local and unspecified ` +
      'addresses are reached only where the agent allows them (--allow-egress), never by a NetworkPolicy alone');
  }
  if (verdict.allowed && verdict.selected) return;
  throw new PodNetworkError('destination-IP-prohibited', `egress to ${ip}:${port} out of the cluster is denied: pods reach outside addresses ` +
    'only where the agent allows it (--allow-egress CIDR) or an egress rule of a NetworkPolicy selecting the pod does (ipBlock)');
}

/** The outside addresses `name` has for `source` (PodNetworkError('DNS-error') when it may not look outside). */
export async function lookupOutside(context: EgressContext, source: PolicyEnd | undefined, name: string): Promise<string[]> {
  if (!mayReachOutside(context, source)) {
    throw new PodNetworkError('DNS-error', `lookup ${name}: no such host (names outside the cluster resolve only for pods allowed egress out of it)`);
  }
  return context.egress.lookup(name);
}

/**
 * Sends a request to `destination` outside the cluster (an IP, or a name resolved by the agent).
 * `servername`: the name TLS verifies (the guest's), when the destination came from a name.
 */
export async function sendOutside(context: EgressContext, source: PolicyEnd | undefined, destination: Destination, request: HttpRequest,
  timeoutMs: number, servername?: string): Promise<HttpResponse> {
  const addresses = destination.kind === 'name' ? await lookupOutside(context, source, destination.host) : [destination.host];
  let first: unknown;
  for (const ip of addresses) {
    try {
      checkOutside(context, source, ip, destination.port);
    } catch (error) {
      first ??= error;
      continue;
    }
    return context.egress.send(ip, destination.port, request, timeoutMs, servername ?? (destination.kind === 'name' ? destination.host : undefined));
  }
  throw first;
}

/**
 * A request a Service sends to an endpoint out of the pod network (kube-proxy's DNAT to it): the
 * API server behind `default/kubernetes` (the address the control plane announced), reached
 * whatever the egress defaults, over TLS verified with the cluster's CA for its address; any other
 * address as egress out of the cluster. NetworkPolicies selecting the pod apply either way.
 */
export function sendToEndpoint(context: EgressContext, source: PolicyEnd | undefined, service: DesiredService, endpoint: { ip: string; port: number },
  request: HttpRequest, timeoutMs: number, name: string | undefined): Promise<HttpResponse> {
  if (service.namespace === 'default' && service.name === 'kubernetes' && context.egress.isApiServer(endpoint.ip, endpoint.port)) {
    if (source && !context.policies.egress(source.ip, endpoint.ip, endpoint.port).allowed) checkEgress(context.policies, source, { ip: endpoint.ip }, endpoint.port);
    return context.egress.send(endpoint.ip, endpoint.port, request, timeoutMs, undefined, { clusterCA: true });
  }
  checkOutside(context, source, endpoint.ip, endpoint.port);
  return context.egress.send(endpoint.ip, endpoint.port, request, timeoutMs, name);
}
