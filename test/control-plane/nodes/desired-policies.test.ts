// The NetworkPolicy compiler: selected pods, peers by podSelector / namespaceSelector / both /
// ipBlock, ports (numbers, ranges, names, protocols), policyTypes, the per-node cut; the agent's
// rules (agent/network/policy-rules.ts) deciding on the compiled form with Kubernetes' semantics;
// and a seeded fuzz of hostile policies (never a throw, always a valid desired-state part).
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { desiredNetworkPolicy } from '../../../api/mqtt/messages.js';
import type { Pod } from '../../../api/types/pod.js';
import { NetworkPolicies } from '../../../agent/network/policy-rules.js';
import { compileNetworkPolicies, namespaceLabels, policiesForNode, policyPods } from '../../../control-plane/nodes/desired-policies.js';
import type { NetworkPolicy } from '../../../control-plane/resources/kinds/services.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';

function pod(name: string, namespace: string, ip: string | undefined, labels: Record<string, string>, node = 'n1', ports: Array<{ name: string; containerPort: number }> = []): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace, labels, ...(ip ? { annotations: { 'skiff.dev/pod-ip': ip } } : {}) },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'x', ports }] },
    status: { phase: 'Running' },
  } as Pod;
}

const policy = (namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec });

const PODS = [
  pod('web-1', 'default', '10.42.1.2', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8080 }]),
  pod('web-2', 'default', '10.42.2.2', { app: 'web' }, 'n2', [{ name: 'http', containerPort: 8081 }]),
  pod('frontend', 'default', '10.42.1.3', { app: 'frontend' }),
  pod('other', 'default', '10.42.1.4', { app: 'other' }),
  pod('monitor', 'ops', '10.42.2.3', { app: 'monitor' }),
  pod('ops-web', 'ops', '10.42.2.4', { app: 'web' }),
  pod('no-ip', 'default', undefined, { app: 'web' }),
];
const NAMESPACES = new Map([
  ['default', namespaceLabels('default', {})],
  ['ops', namespaceLabels('ops', { team: 'ops' })],
]);

/** The agent of `node` with `policies` in force. */
function agent(policies: NetworkPolicy[], node = 'n1') {
  const rules = new NetworkPolicies();
  rules.set(policiesForNode(compileNetworkPolicies(policies, policyPods(PODS), NAMESPACES), node));
  return rules;
}

describe('NetworkPolicy compiled for the agents', () => {
  it('leaves pods no policy selects open, and a default deny closes the selected ones', () => {
    const open = agent([]);
    expect(open.empty).toBe(true);
    expect(open.ingress('10.42.1.2', '10.42.1.3', 8080)).toEqual({ allowed: true, selected: false });

    const denyAll = policy('default', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const rules = agent([denyAll]);
    expect(rules.ingress('10.42.1.2', '10.42.1.3', 8080)).toEqual({ allowed: false, policies: ['default/deny-all'] });
    expect(rules.egress('10.42.1.3', '10.42.1.2', 8080)).toEqual({ allowed: false, policies: ['default/deny-all'] });
    // pods of another namespace are not selected
    expect(agent([denyAll], 'n2').ingress('10.42.2.3', '10.42.1.3', 80)).toEqual({ allowed: true, selected: false });

    // policyTypes defaults to Ingress (and Egress when there are egress rules)
    const ingressOnly = agent([policy('default', 'deny-in', { podSelector: { matchLabels: { app: 'web' } } })]);
    expect(ingressOnly.ingress('10.42.1.2', '10.42.1.3', 8080).allowed).toBe(false);
    expect(ingressOnly.egress('10.42.1.2', '10.42.1.3', 8080)).toEqual({ allowed: true, selected: false });
    expect(ingressOnly.ingress('10.42.1.3', '10.42.1.2', 8080)).toEqual({ allowed: true, selected: false });
  });

  it('allows by podSelector, namespaceSelector and both, ports by number, range and name', () => {
    const rules = agent([
      policy('default', 'web-from-frontend', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 'http' }] },
          { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'monitor' } } }], ports: [{ port: 9000, endPort: 9100 }] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } } }], ports: [{ port: 7000 }] },
          { from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }] },
        ],
      }),
    ]);
    expect(rules.ingress('10.42.1.2', '10.42.1.3', 8080).allowed).toBe(true); // frontend on the port named http
    expect(rules.ingress('10.42.1.2', '10.42.1.3', 8081).allowed).toBe(false); // web-1's http is 8080
    expect(rules.ingress('10.42.1.2', '10.42.1.4', 8080).allowed).toBe(false); // other
    expect(rules.ingress('10.42.1.2', '10.42.2.3', 9050).allowed).toBe(true); // monitor in ops, in the range
    expect(rules.ingress('10.42.1.2', '10.42.2.3', 9101).allowed).toBe(false);
    expect(rules.ingress('10.42.1.2', '10.42.2.4', 9050).allowed).toBe(false); // ops-web is not monitor
    expect(rules.ingress('10.42.1.2', '10.42.2.4', 7000).allowed).toBe(true); // any pod of ops
    expect(rules.ingress('10.42.1.2', '10.42.1.3', 7000).allowed).toBe(false); // not of ops
    expect(rules.ingress('10.42.1.2', '192.168.7.9', 1).allowed).toBe(true);
    expect(rules.ingress('10.42.1.2', '192.168.1.9', 1).allowed).toBe(false); // except
    expect(rules.ingress('10.42.1.2', '10.42.1.3', 8080, 'UDP').allowed).toBe(false);
    // the compiled pods carry only the named ports the policy uses, and only this node's selected pods
    const [compiled] = policiesForNode(compileNetworkPolicies([policy('default', 'p', {
      podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }],
    })], policyPods(PODS), NAMESPACES), 'n2');
    expect(compiled!.pods).toEqual([{ ip: '10.42.2.2', named: [{ name: 'http', port: 8081 }] }]);
    expect(compiled!.ingress).toEqual([{ ports: [{ name: 'http' }] }]);
  });

  it('restricts egress: to pods, to blocks, to named ports of pods only; rules of several policies add up', () => {
    const rules = agent([
      policy('default', 'frontend-out', {
        podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http' }] }],
      }),
      policy('default', 'frontend-dns', {
        podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '127.0.0.1/32' } }], ports: [{ port: 8443 }] }, { ports: [{ port: 'metrics' }, { port: 53, protocol: 'UDP' }] }],
      }),
    ]);
    expect(rules.egress('10.42.1.3', '10.42.1.2', 8080).allowed).toBe(true); // web-1's http
    expect(rules.egress('10.42.1.3', '10.42.2.2', 8081).allowed).toBe(true); // web-2's http, another node
    expect(rules.egress('10.42.1.3', '10.42.2.2', 8080).allowed).toBe(false);
    expect(rules.egress('10.42.1.3', '10.42.1.4', 8080)).toEqual({ allowed: false, policies: ['default/frontend-dns', 'default/frontend-out'] });
    expect(rules.egress('10.42.1.3', '127.0.0.1', 8443).allowed).toBe(true);
    expect(rules.egress('10.42.1.3', '127.0.0.2', 8443).allowed).toBe(false);
    expect(rules.egress('10.42.1.3', '8.8.8.8', 53, 'UDP').allowed).toBe(true); // to anyone on 53/UDP
    expect(rules.egress('10.42.1.3', '8.8.8.8', 53).allowed).toBe(false);
    // "to anyone" on a named port: no pod has a port named metrics, so nothing
    expect(rules.egress('10.42.1.3', '10.42.1.4', 9090).allowed).toBe(false);
  });

  it('matches nothing rather than more for what cannot be understood', () => {
    const rules = agent([policy('default', 'odd', {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        { from: [{ ipBlock: { cidr: 'not-a-cidr' } }] }, // a peer list of nothing: nobody
        { ports: [{ port: 70000 }, { port: 10, endPort: 5 }] }, // ports that match nothing: the rule goes
        { from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'Bogus' as 'In' }] } }] },
      ],
    })]);
    for (const source of ['10.42.1.3', '10.42.1.4', '1.2.3.4']) expect(rules.ingress('10.42.1.2', source, 10).allowed).toBe(false);
  });

  it('ignores finished pods and pods without an IP, and the namespace label is always there', () => {
    const finished = { ...pod('done', 'default', '10.42.1.9', { app: 'web' }), status: { phase: 'Succeeded' } } as Pod;
    expect(policyPods([...PODS, finished]).map((p) => p.ip)).not.toContain('10.42.1.9');
    expect(policyPods(PODS)).toHaveLength(6);
    expect(namespaceLabels('x', { 'kubernetes.io/metadata.name': 'spoofed', a: 'b' })).toEqual({ a: 'b', 'kubernetes.io/metadata.name': 'x' });
  });

  it('compiles hostile policies without a throw, into what the desired-state schema accepts (seeded fuzz)', () => {
    const next = seededRandom(2911);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const selector = () => pick([{}, { matchLabels: { app: pick(['web', 'frontend', hostileString(next, 3)]) } }, hostileJson(next, 2), undefined, null]);
    const peer = () => pick([
      { podSelector: selector() }, { namespaceSelector: selector() }, { podSelector: selector(), namespaceSelector: selector() },
      { ipBlock: { cidr: pick(['10.0.0.0/8', '::/0', '1.2.3.4/33', hostileString(next, 4)]), except: pick([undefined, ['10.1.0.0/16'], [hostileString(next, 3)], hostileJson(next, 1)]) } },
      hostileJson(next, 2),
    ]);
    const port = () => pick([{ port: pick([80, 0, -1, 65536, 1.5, 'http', 'HTTP', hostileString(next, 2), 2 ** 53]), endPort: pick([undefined, 90, 1, 'x']), protocol: pick([undefined, 'TCP', 'UDP', 'ICMP']) }, hostileJson(next, 2)]);
    const rule = () => pick([{ from: [peer(), peer()], to: [peer()], ports: [port(), port()] }, {}, hostileJson(next, 3), null]);
    for (let i = 0; i < 400; i++) {
      const spec = pick([
        { podSelector: selector(), ingress: [rule(), rule()], egress: [rule()], policyTypes: pick([undefined, ['Egress'], ['Ingress', 'Egress'], [hostileString(next, 2)], 'Ingress']) },
        hostileJson(next, 3),
      ]) as NetworkPolicy['spec'];
      const np = policy('default', `p${i}`, spec);
      const compiled = compileNetworkPolicies([np], policyPods(PODS), NAMESPACES);
      for (const node of ['n1', 'n2']) {
        for (const desired of policiesForNode(compiled, node)) {
          expect(v.safeParse(desiredNetworkPolicy, desired).success).toBe(true);
          const rules = new NetworkPolicies();
          rules.set([desired]);
          rules.ingress(desired.pods[0]!.ip, hostileString(next, 3), 80);
          rules.egress(desired.pods[0]!.ip, '10.42.1.2', 80);
        }
      }
    }
  });
});
