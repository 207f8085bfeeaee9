// The NetworkPolicies this agent enforces (from the desired state, compiled by the control plane:
// control-plane/nodes/desired-policies.ts): for a pod of this node, whether a connection into it
// (ingress, checked where it is received) or out of it (egress, checked where it is sent) is
// allowed, as Kubernetes defines it: a pod no policy selects for a direction is open in that
// direction; a selected pod's connection is allowed when a rule of a policy selecting it matches
// both the peer and the port (rules of all such policies add up).
import { cidrContains, parseCidr, parseIP, type Cidr, type IPAddress } from '../../api/cidr.js';
import type { DesiredNetworkPolicy, DesiredPolicyPod, DesiredPolicyRule } from '../../api/mqtt/messages.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export type PolicyVerdict =
  /** `selected`: some policy restricts this direction for the pod (and a rule of one allowed it). */
  | { allowed: true; selected: boolean }
  /** `policies`: the `namespace/name` of the policies restricting the pod in this direction. */
  | { allowed: false; policies: string[] };

interface Rule {
  /** undefined: every peer. */
  pods: Map<string, DesiredPolicyPod> | undefined;
  blocks: Array<{ cidr: Cidr; except: Cidr[] }>;
  ports: DesiredPolicyRule['ports'];
}

interface Restriction {
  key: string;
  rules: Rule[];
}

function compile(rule: DesiredPolicyRule): Rule {
  const blocks: Rule['blocks'] = [];
  for (const block of rule.peers?.blocks ?? []) {
    const cidr = parseCidr(block.cidr);
    const except = (block.except ?? []).map(parseCidr);
    if (cidr && except.every(Boolean)) blocks.push({ cidr, except: except as Cidr[] });
  }
  return {
    pods: rule.peers ? new Map(rule.peers.pods.map((pod) => [pod.ip, pod])) : undefined,
    blocks,
    ports: rule.ports,
  };
}

/** The port of `pod` named `name` for `protocol`, if it has one. */
const namedPort = (pod: DesiredPolicyPod | undefined, name: string, protocol: Protocol) =>
  pod?.named?.find((p) => p.name === name && (p.protocol ?? 'TCP') === protocol)?.port;

export class NetworkPolicies {
  /** pod IP -> the policies restricting its ingress / egress. */
  #ingress = new Map<string, Restriction[]>();
  #egress = new Map<string, Restriction[]>();
  /** pod IP -> the pod as the policies selecting it name it (its named ports). */
  #selected = new Map<string, DesiredPolicyPod>();

  /** Replaces the policies (a new desired state). */
  set(policies: readonly DesiredNetworkPolicy[]): void {
    const ingress = new Map<string, Restriction[]>();
    const egress = new Map<string, Restriction[]>();
    const selected = new Map<string, DesiredPolicyPod>();
    for (const policy of policies) {
      const key = `${policy.namespace}/${policy.name}`;
      const directions = [[policy.ingress, ingress], [policy.egress, egress]] as const;
      for (const [rules, byPod] of directions) {
        if (!rules) continue;
        const restriction = { key, rules: rules.map(compile) };
        for (const pod of policy.pods) byPod.set(pod.ip, [...(byPod.get(pod.ip) ?? []), restriction]);
      }
      for (const pod of policy.pods) {
        const known = selected.get(pod.ip);
        selected.set(pod.ip, known ? { ip: pod.ip, named: [...(known.named ?? []), ...(pod.named ?? [])] } : pod);
      }
    }
    this.#ingress = ingress;
    this.#egress = egress;
    this.#selected = selected;
  }

  /** Whether any policy is in force on this node. */
  get empty(): boolean {
    return this.#ingress.size === 0 && this.#egress.size === 0;
  }

  /** A connection from `source` (an IP, maybe outside the cluster) to port `port` of the pod `podIP` of this node. */
  ingress(podIP: string, source: string, port: number, protocol: Protocol = 'TCP'): PolicyVerdict {
    const restrictions = this.#ingress.get(podIP);
    if (!restrictions) return { allowed: true, selected: false };
    const peer = parseIP(source);
    const destination = this.#selected.get(podIP);
    for (const { rules } of restrictions) {
      for (const rule of rules) {
        if (!peerMatches(rule, source, peer)) continue;
        if (portMatches(rule.ports, port, protocol, destination)) return { allowed: true, selected: true };
      }
    }
    return { allowed: false, policies: restrictions.map((r) => r.key) };
  }

  /**
   * Whether a policy selecting the pod `podIP` for egress has a rule that may allow an address
   * outside the cluster (one without peers, or with an ipBlock).
   */
  mayReachOutside(podIP: string): boolean {
    return (this.#egress.get(podIP) ?? []).some(({ rules }) => rules.some((rule) => !rule.pods || rule.blocks.length > 0));
  }

  /** A connection from the pod `podIP` of this node to `destination` (a pod's or outside IP), port `port`. */
  egress(podIP: string, destination: string, port: number, protocol: Protocol = 'TCP'): PolicyVerdict {
    const restrictions = this.#egress.get(podIP);
    if (!restrictions) return { allowed: true, selected: false };
    const peer = parseIP(destination);
    for (const { rules } of restrictions) {
      for (const rule of rules) {
        if (!peerMatches(rule, destination, peer)) continue;
        // a named port is the destination pod's: known when the rule names the pod as a peer
        if (portMatches(rule.ports, port, protocol, rule.pods?.get(destination))) return { allowed: true, selected: true };
      }
    }
    return { allowed: false, policies: restrictions.map((r) => r.key) };
  }
}

function peerMatches(rule: Rule, ip: string, address: IPAddress | undefined): boolean {
  if (!rule.pods) return true;
  if (rule.pods.has(ip)) return true;
  if (!address) return false;
  return rule.blocks.some((block) => cidrContains(block.cidr, address) && !block.except.some((e) => cidrContains(e, address)));
}

function portMatches(ports: DesiredPolicyRule['ports'], port: number, protocol: Protocol, pod: DesiredPolicyPod | undefined): boolean {
  if (!ports) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.name !== undefined) return namedPort(pod, p.name, protocol) === port;
    if (p.port === undefined) return true;
    return port >= p.port && port <= (p.endPort ?? p.port);
  });
}
