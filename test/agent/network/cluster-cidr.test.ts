// The agent's pod network follows the control plane's --cluster-cidr (the desired state's
// clusterCidr): an unknown address inside it is an unknown pod, refused as such, never sent out of
// the cluster; an address of the default 10.42.0.0/16 outside it is outside (egress rules apply),
// for HTTP and raw TCP alike. Absent or unreadable, the default holds. No test sends a byte out:
// egress stays denied, and the two answers differ in their messages.
import { describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { isPodAddress, podNetworkOf } from '../../../agent/network/egress.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';
import { fakePod } from './fake-pods.js';

const UNKNOWN_POD = /^destination-IP-prohibited: .* is no pod of this node and no Service/;
const OUTSIDE = /^destination-IP-prohibited: egress to .* out of the cluster is denied/;

async function tcpFails(node: NodeNetwork, client: ReturnType<typeof fakePod>, host: string, port: number): Promise<string> {
  try {
    await node.connect({ namespace: 'default', network: client.network }, host, port, 40000);
  } catch (error) {
    return `${(error as PodNetworkError).code}: ${(error as Error).message}`;
  }
  return 'connected';
}

describe('the pod network of the cluster CIDR', () => {
  it('reads the desired state\'s clusterCidr, keeping the default when absent or unreadable', () => {
    expect(isPodAddress('10.42.7.1')).toBe(true);
    expect(isPodAddress('172.20.0.1')).toBe(false);
    const other = podNetworkOf('172.20.0.0/16');
    expect(isPodAddress('172.20.9.9', other)).toBe(true);
    expect(isPodAddress('10.42.7.1', other)).toBe(false);
    for (const bad of [undefined, '', 'x', '0.0.0.0/0', '10.0.0.0/4', 'fd00::/8', '1.2.3.4/33', '../../etc', '9'.repeat(64)]) {
      expect(isPodAddress('10.42.7.1', podNetworkOf(bad))).toBe(true);
      expect(isPodAddress('172.20.9.9', podNetworkOf(bad))).toBe(false);
    }
  });

  it('refuses unknown pod IPs of another range as pods and treats 10.42/16 as outside (HTTP and TCP)', async () => {
    const node = new NodeNetwork();
    node.setClusterCidr('172.20.0.0/16');
    const client = fakePod(node, 'client', '172.20.1.3', []);
    fakePod(node, 'web', '172.20.1.4', [8080]);
    expect(await client.get('172.20.1.4:8080', '/x')).toBe('web 172.20.1.4:8080 /x');
    // a pod address of the cluster nobody runs: not outside
    expect(await client.fails('172.20.9.9:80')).toMatch(UNKNOWN_POD);
    expect(await tcpFails(node, client, '172.20.9.9', 80)).toMatch(UNKNOWN_POD);
    // the default range is an outside address here: egress rules decide (denied by default)
    expect(await client.fails('10.42.9.9:80')).toMatch(OUTSIDE);
    expect(await tcpFails(node, client, '10.42.9.9', 80)).toMatch(OUTSIDE);

    // back to the default (a desired state of an older control plane)
    node.setClusterCidr(undefined);
    expect(await client.fails('172.20.9.9:80')).toMatch(OUTSIDE);
    expect(await client.fails('10.42.9.9:80')).toMatch(UNKNOWN_POD);
  });

  it('balances a Service over this node\'s pods of the range, hand-written outside endpoints count as local', async () => {
    const node = new NodeNetwork();
    node.setClusterCidr('172.20.0.0/16');
    const client = fakePod(node, 'client', '172.20.1.3', []);
    // an endpoint of the pod network on no known node: not reachable, so no candidate (not sent out)
    const web: DesiredService = { namespace: 'default', name: 'web-svc', clusterIP: '10.43.0.10', ports: [{ port: 80 }], endpoints: [{ ips: ['172.20.5.5'], ports: [{ port: 8080 }] }] };
    node.setServices([web]);
    expect(await client.fails('10.43.0.10:80')).toMatch(/^destination-unavailable: the ready endpoints of service default\/web-svc run on other nodes/);
    // 10.42.x is outside here: a hand-written endpoint, sent by the egress rules (denied)
    node.setServices([{ ...web, endpoints: [{ ips: ['10.42.5.5'], ports: [{ port: 8080 }] }] }]);
    expect(await client.fails('10.43.0.10:80')).toMatch(OUTSIDE);
  });
});
