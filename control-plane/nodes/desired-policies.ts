// The NetworkPolicy part of each node's desired state: every policy compiled once for the cluster
// (its selected pods, and its rules' peers resolved to pod IPs and CIDR blocks, as a CNI's policy
// agent resolves them), then, per node, the policies that select a pod of that node with only
// those pods. Kubernetes semantics (networking.k8s.io/v1):
// - a policy selects the pods of its namespace matching spec.podSelector ({}: all of them);
// - policyTypes says which directions it restricts; a selected pod's traffic in a restricted
//   direction is allowed when some rule of some policy selecting it allows it (rules add up);
// - a rule without peers (`from`/`to` absent or empty) allows every peer, without ports every port;
// - peer podSelector alone: pods of the policy's namespace; namespaceSelector alone: every pod of
//   the matching namespaces; both: matching pods of matching namespaces; ipBlock: a CIDR less its
//   `except` blocks;
// - a named port is a container port name of the destination pod (so egress rules naming ports
//   match only pods).
// What can never match is left out (an invalid CIDR, a port out of range), never widened.
import { parseCidr } from '../../api/cidr.js';
import type { DesiredNetworkPolicy, DesiredPolicyPod, DesiredPolicyRule } from '../../api/mqtt/messages.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import { isTerminalPhase } from '../../api/types/pod.js';
import { matchesSelector } from '../controllers/selector-match.js';
import type { LabelSelectorSpec } from '../controllers/workload-kinds.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../resources/kinds/services.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import { POD_IP_ANNOTATION } from '../../api/pod-addresses.js';

/** A pod as policies see it. */
export interface PolicyPod {
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  node: string | undefined;
  /** Its containers' named ports. */
  ports: Array<{ name: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }>;
}

/** A policy compiled for the whole cluster: `policy.pods` are all the pods it selects. */
export interface CompiledPolicy {
  policy: DesiredNetworkPolicy;
  nodes: Map<string | undefined, DesiredPolicyPod[]>;
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
const validPort = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** The pods policies apply to and name: running or pending ones with a pod IP (host-network pods are the node's). */
export function policyPods(pods: readonly Pod[]): PolicyPod[] {
  const out: PolicyPod[] = [];
  for (const pod of pods) {
    if (isTerminalPhase(pod.status?.phase) || (pod.spec as { hostNetwork?: boolean }).hostNetwork) continue;
    const ip = pod.metadata.annotations?.[POD_IP_ANNOTATION] ?? pod.status?.podIP;
    if (typeof ip !== 'string' || ip.length === 0 || ip.length > 64) continue;
    const ports: PolicyPod['ports'] = [];
    for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
      for (const p of c?.ports ?? []) {
        if (typeof p?.name === 'string' && validPort(p.containerPort)) {
          ports.push({ name: p.name, port: p.containerPort, protocol: PROTOCOLS.has(p.protocol ?? 'TCP') ? (p.protocol ?? 'TCP') as 'TCP' : 'TCP' });
        }
      }
    }
    out.push({ namespace: pod.metadata.namespace ?? 'default', labels: pod.metadata.labels ?? {}, ip, node: pod.spec.nodeName, ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

/** A namespace's labels, with `kubernetes.io/metadata.name` as the API server sets it. */
export function namespaceLabels(name: string, labels: Record<string, string> | undefined): Record<string, string> {
  return { ...labels, 'kubernetes.io/metadata.name': name };
}

interface Context {
  pods: readonly PolicyPod[];
  namespaces: ReadonlyMap<string, Record<string, string>>;
}

/** Whether a (validated, but maybe old or odd) selector selects `labels`; what cannot be read selects nothing. */
function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (selector === null || typeof selector !== 'object' || Array.isArray(selector)) return false;
  try {
    return matchesSelector(selector as LabelSelectorSpec, labels);
  } catch {
    return false;
  }
}

/** The pod as a rule names it, with the named ports the policy uses. */
function podRef(pod: PolicyPod, names: ReadonlySet<string>): DesiredPolicyPod {
  const named = pod.ports.filter((p) => names.has(p.name)).map((p) => ({ name: p.name, port: p.port, ...(p.protocol !== 'TCP' ? { protocol: p.protocol } : {}) }));
  return { ip: pod.ip, ...(named.length ? { named } : {}) };
}

function compilePorts(ports: readonly NetworkPolicyPort[]): NonNullable<DesiredPolicyRule['ports']> {
  const out: NonNullable<DesiredPolicyRule['ports']> = [];
  for (const p of ports) {
    if (!p || typeof p !== 'object') continue;
    const protocol = p.protocol ?? 'TCP';
    if (!PROTOCOLS.has(protocol)) continue;
    const proto = protocol === 'TCP' ? {} : { protocol };
    if (p.port === undefined || p.port === null) out.push(proto);
    else if (typeof p.port === 'string') {
      if (PORT_NAME.test(p.port)) out.push({ ...proto, name: p.port });
    } else if (validPort(p.port)) {
      if (p.endPort === undefined || p.endPort === null) out.push({ ...proto, port: p.port });
      else if (validPort(p.endPort) && p.endPort >= p.port) out.push({ ...proto, port: p.port, endPort: p.endPort });
    }
  }
  return out;
}

function compilePeers(peers: readonly NetworkPolicyPeer[], namespace: string, names: ReadonlySet<string>, context: Context): NonNullable<DesiredPolicyRule['peers']> {
  const pods = new Map<string, DesiredPolicyPod>();
  const blocks: NonNullable<DesiredPolicyRule['peers']>['blocks'] = [];
  for (const peer of peers) {
    if (!peer || typeof peer !== 'object') continue;
    if (peer.ipBlock) {
      const { cidr, except } = peer.ipBlock;
      if (peer.podSelector || peer.namespaceSelector || !parseCidr(cidr)) continue;
      const excepts = Array.isArray(except) ? except : [];
      if (!excepts.every((e) => parseCidr(e))) continue;
      blocks.push({ cidr, ...(excepts.length ? { except: excepts } : {}) });
      continue;
    }
    if (!peer.podSelector && !peer.namespaceSelector) continue;
    for (const pod of context.pods) {
      const inNamespace = peer.namespaceSelector
        ? selects(peer.namespaceSelector, context.namespaces.get(pod.namespace) ?? namespaceLabels(pod.namespace, undefined))
        : pod.namespace === namespace;
      if (inNamespace && (!peer.podSelector || selects(peer.podSelector, pod.labels))) pods.set(pod.ip, podRef(pod, names));
    }
  }
  return { pods: [...pods.values()], blocks };
}

function compileRules(rules: unknown, peersField: 'from' | 'to', namespace: string, names: ReadonlySet<string>, context: Context): DesiredPolicyRule[] {
  const out: DesiredPolicyRule[] = [];
  for (const rule of Array.isArray(rules) ? rules as Array<Record<string, unknown>> : []) {
    if (!rule || typeof rule !== 'object') continue;
    const rawPeers = rule[peersField];
    const rawPorts = rule['ports'];
    const ports = Array.isArray(rawPorts) && rawPorts.length > 0 ? compilePorts(rawPorts as NetworkPolicyPort[]) : undefined;
    if (ports && ports.length === 0) continue; // only ports that match nothing
    const peers = Array.isArray(rawPeers) && rawPeers.length > 0 ? compilePeers(rawPeers as NetworkPolicyPeer[], namespace, names, context) : undefined;
    const named = ports?.filter((p) => p.name) ?? [];
    if (!peers && peersField === 'to' && named.length > 0) {
      // "to anyone" on a named port: only pods have named ports, so it means the pods that have one
      const numbered = ports!.filter((p) => !p.name);
      if (numbered.length > 0) out.push({ ports: numbered });
      const wanted = new Set(named.map((p) => p.name));
      const pods = context.pods.filter((pod) => pod.ports.some((p) => wanted.has(p.name))).map((pod) => podRef(pod, names));
      out.push({ peers: { pods, blocks: [] }, ports: named });
      continue;
    }
    out.push({ ...(peers ? { peers } : {}), ...(ports ? { ports } : {}) });
  }
  return out;
}

/** The port names a policy's rules use (the only named ports the compiled pods carry). */
function portNames(policy: NetworkPolicy): Set<string> {
  const names = new Set<string>();
  for (const rule of [...(Array.isArray(policy.spec?.ingress) ? policy.spec.ingress : []), ...(Array.isArray(policy.spec?.egress) ? policy.spec.egress : [])]) {
    for (const p of Array.isArray(rule?.ports) ? rule.ports : []) if (typeof p?.port === 'string') names.add(p.port);
  }
  return names;
}

/** Every policy with the pods it selects and its compiled rules. */
export function compileNetworkPolicies(policies: readonly NetworkPolicy[], pods: readonly PolicyPod[], namespaces: ReadonlyMap<string, Record<string, string>>): CompiledPolicy[] {
  const context: Context = { pods, namespaces };
  const out: CompiledPolicy[] = [];
  for (const np of policies) {
    const { name, namespace } = np.metadata ?? {};
    const spec = np.spec;
    if (!name || !namespace || !spec || typeof spec !== 'object') continue;
    const names = portNames(np);
    const nodes = new Map<string | undefined, DesiredPolicyPod[]>();
    const selected: DesiredPolicyPod[] = [];
    for (const pod of pods) {
      if (pod.namespace !== namespace || !selects(spec.podSelector ?? {}, pod.labels)) continue;
      const ref = podRef(pod, names);
      selected.push(ref);
      nodes.set(pod.node, [...(nodes.get(pod.node) ?? []), ref]);
    }
    const types = Array.isArray(spec.policyTypes) && spec.policyTypes.length > 0
      ? spec.policyTypes
      : Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
    const policy: DesiredNetworkPolicy = {
      namespace, name, pods: selected,
      ...(types.includes('Ingress') ? { ingress: compileRules(spec.ingress, 'from', namespace, names, context) } : {}),
      ...(types.includes('Egress') ? { egress: compileRules(spec.egress, 'to', namespace, names, context) } : {}),
    };
    if (!policy.ingress && !policy.egress) continue;
    out.push({ policy, nodes });
  }
  return out.sort((a, b) => {
    const ka = `${a.policy.namespace}/${a.policy.name}`;
    const kb = `${b.policy.namespace}/${b.policy.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The policies an agent enforces: those selecting a pod of `node`, each with only those pods. */
export function policiesForNode(compiled: readonly CompiledPolicy[], node: string): DesiredNetworkPolicy[] {
  const out: DesiredNetworkPolicy[] = [];
  for (const { policy, nodes } of compiled) {
    const pods = nodes.get(node);
    if (pods?.length) out.push({ ...policy, pods });
  }
  return out;
}

/** Reads the cluster's NetworkPolicies, pods and namespaces and compiles the policies. */
export async function readNetworkPolicies(resources: ResourceStore): Promise<CompiledPolicy[]> {
  const policies = await resources.list<NetworkPolicy>(resourceTypes.networkpolicies);
  if (policies.items.length === 0) return [];
  const [pods, namespaces] = await Promise.all([
    resources.list<Pod>(resourceTypes.pods),
    resources.list<KubeObject>(resourceTypes.namespaces),
  ]);
  const labels = new Map(namespaces.items.map((ns) => [ns.metadata.name!, namespaceLabels(ns.metadata.name!, ns.metadata.labels)]));
  return compileNetworkPolicies(policies.items, policyPods(pods.items), labels);
}
