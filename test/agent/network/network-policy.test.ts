// NetworkPolicy enforced by the node network (fake handlers in real PodNetworks): a pod no policy
// selects is open; ingress and egress default deny; allowed peers and ports; policies apply after
// the Service's endpoint was chosen (to the pod IP and target port, as after kube-proxy's DNAT);
// a denied request is connection-refused at once with a message naming the policies, and a
// RequestFailed event on the calling pod.
import { describe, expect, it } from 'vitest';
import type { DesiredNetworkPolicy, DesiredService } from '../../../api/mqtt/messages.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { fakePod } from './fake-pods.js';

const web: DesiredService = {
  namespace: 'default', name: 'web-svc', clusterIP: '10.43.0.10',
  ports: [{ name: 'http', port: 80 }],
  endpoints: [{ ips: ['10.42.0.2'], ports: [{ name: 'http', port: 8080 }] }],
};

const denyIngress = (pods: string[]): DesiredNetworkPolicy => ({ namespace: 'default', name: 'deny-web', pods: pods.map((ip) => ({ ip })), ingress: [] });

describe('NetworkPolicy in the node network', () => {
  it('denies ingress to selected pods unless a rule allows the peer and port, by pod IP and through a Service', async () => {
    const node = new NodeNetwork();
    node.setServices([web]);
    const frontend = fakePod(node, 'frontend', '10.42.0.3', []);
    const other = fakePod(node, 'other', '10.42.0.4', []);
    const backend = fakePod(node, 'web-1', '10.42.0.2', [8080, 9090]);
    expect(await other.get('web-svc')).toBe('web-1 web-svc /');

    node.policies.set([denyIngress(['10.42.0.2'])]);
    expect(await frontend.fails('web-svc')).toBe('connection-refused: dial tcp 10.42.0.2:8080: connection denied by NetworkPolicy: ' +
      'ingress of pod default/web-1 (10.42.0.2) is restricted by default/deny-web and no rule allows it from pod default/frontend (10.42.0.3)');
    expect(await frontend.fails('10.42.0.2:8080')).toMatch(/^connection-refused: /);
    expect(frontend.events).toEqual([
      'Warning RequestFailed: Container client: GET http://web-svc/ failed with connection-refused: dial tcp 10.42.0.2:8080: connection denied by NetworkPolicy: ' +
        'ingress of pod default/web-1 (10.42.0.2) is restricted by default/deny-web and no rule allows it from pod default/frontend (10.42.0.3)',
      'Warning RequestFailed: Container client: GET http://10.42.0.2:8080/ failed with connection-refused: dial tcp 10.42.0.2:8080: connection denied by NetworkPolicy: ' +
        'ingress of pod default/web-1 (10.42.0.2) is restricted by default/deny-web and no rule allows it from pod default/frontend (10.42.0.3)',
    ]);
    // its own loopback and pod IP stay open; the frontend itself is not selected
    expect(await backend.get('localhost:9090')).toBe('web-1 localhost:9090 /');
    expect(await backend.get('10.42.0.2:9090')).toBe('web-1 10.42.0.2:9090 /');
    expect(await backend.fails('10.42.0.3:80')).toBe('connection-refused: dial tcp 10.42.0.3:80: connect: connection refused'); // egress not restricted

    // allow the frontend on the target port 8080: the Service works for it, not for the other pod
    node.policies.set([denyIngress(['10.42.0.2']), {
      namespace: 'default', name: 'web-from-frontend', pods: [{ ip: '10.42.0.2' }],
      ingress: [{ peers: { pods: [{ ip: '10.42.0.3' }], blocks: [] }, ports: [{ port: 8080 }] }],
    }]);
    expect(await frontend.get('web-svc')).toBe('web-1 web-svc /');
    expect(await frontend.fails('10.42.0.2:9090')).toMatch(/restricted by default\/deny-web, default\/web-from-frontend/);
    expect(await other.fails('web-svc')).toMatch(/^connection-refused: .*from pod default\/other/);
    // the policies go: open again
    node.policies.set([]);
    expect(await other.get('web-svc')).toBe('web-1 web-svc /');
  });

  it('denies egress of selected pods unless a rule allows the destination pod and port', async () => {
    const node = new NodeNetwork();
    node.setServices([web]);
    const frontend = fakePod(node, 'frontend', '10.42.0.3', []);
    fakePod(node, 'web-1', '10.42.0.2', [8080, 9090]);
    node.policies.set([{
      namespace: 'default', name: 'frontend-out', pods: [{ ip: '10.42.0.3' }],
      egress: [{ peers: { pods: [{ ip: '10.42.0.2', named: [{ name: 'http', port: 8080 }] }], blocks: [] }, ports: [{ name: 'http' }] }],
    }]);
    expect(await frontend.get('web-svc')).toBe('web-1 web-svc /');
    expect(await frontend.fails('10.42.0.2:9090')).toBe('connection-refused: dial tcp 10.42.0.2:9090: connection denied by NetworkPolicy: ' +
      'egress of pod default/frontend (10.42.0.3) is restricted by default/frontend-out and no rule allows it to pod default/web-1 (10.42.0.2)');
    // its own loopback is never restricted
    expect(await frontend.fails('localhost:1')).toMatch(/^connection-refused: dial tcp 10.42.0.3:1: connect: connection refused/);
  });
});
