// Enforcing the NetworkPolicies on one connection between pods (policy-rules.ts decides): egress
// where it is sent, ingress where it is received. A denied connection is the guest's
// `connection-refused` (never a hang; Kubernetes drops the packets and the client times out, a
// guest here learns at once), with a message naming the policies.
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import type { NetworkPolicies, PolicyVerdict, Protocol } from './policy-rules.js';

/** A pod as messages name it. */
export interface PolicyEnd {
  ip: string;
  /** `namespace/name` when the pod is known here. */
  pod?: string | undefined;
}

const who = (end: PolicyEnd) => (end.pod ? `pod ${end.pod} (${end.ip})` : end.ip);

function denied(verdict: PolicyVerdict, direction: 'egress' | 'ingress', subject: PolicyEnd, peer: PolicyEnd, where: string, protocol: Protocol = 'TCP'): PodNetworkError | undefined {
  if (verdict.allowed) return undefined;
  const policies = verdict.policies.join(', ');
  const peerText = direction === 'egress' ? `to ${who(peer)}` : `from ${who(peer)}`;
  return new PodNetworkError('connection-refused',
    `dial ${protocol.toLowerCase()} ${where}: connection denied by NetworkPolicy: ${direction} of ${who(subject)} is restricted by ${policies} and no rule allows it ${peerText}`);
}

/** Egress of `source` (a pod of this node) to `destination`:`port`; throws PodNetworkError when denied. */
export function checkEgress(policies: NetworkPolicies, source: PolicyEnd, destination: PolicyEnd, port: number, protocol: Protocol = 'TCP'): void {
  const error = denied(policies.egress(source.ip, destination.ip, port, protocol), 'egress', source, destination, `${destination.ip}:${port}`, protocol);
  if (error) throw error;
}

/** Ingress of `destination` (a pod of this node) on `port` from `source`; throws PodNetworkError when denied. */
export function checkIngress(policies: NetworkPolicies, source: PolicyEnd, destination: PolicyEnd, port: number, protocol: Protocol = 'TCP'): void {
  const error = denied(policies.ingress(destination.ip, source.ip, port, protocol), 'ingress', destination, source, `${destination.ip}:${port}`, protocol);
  if (error) throw error;
}
