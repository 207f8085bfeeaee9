// UDP between real guests on one agent (decision 054), through WasmPodRuntime and the agent's
// NodeNetwork (real PodNetworks): udp-client -> udp-echo in a sibling container over 127.0.0.1, pod
// to pod by pod IP, through a Service (protocol UDP) by DNS name and ClusterIP; the guest's error
// codes (address-in-use, datagram-too-large, access-denied for egress, connection-refused for a
// Service without endpoints and a NetworkPolicy); ports released when the guest ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredNetworkPolicy, DesiredService } from '../../../api/mqtt/messages.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { WasmPodRuntime } from '../../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../../contracts/runtime.contract.js';
import { startComponent } from '../../runtime/support/run-components.js';

function pod(node: NodeNetwork, name: string, ip: string, namespace = 'default') {
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    resolve: async (host) => node.resolve(namespace, host),
    sendDatagram: (localPort, host, port, data) => node.udp.send({ network }, localPort, host, port, data),
  });
  node.attach(ip, { namespace, name, network });
  let instance = 0;
  return { network, view: (container: string) => network.ports(`${name}/${container}/${instance++}`, container) };
}

const echoService = (ips: string[]): DesiredService => ({
  namespace: 'default', name: 'echo-svc', clusterIP: '10.96.0.21',
  ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53 }],
  endpoints: ips.length > 0 ? [{ ips, ports: [{ name: 'dns', port: 7001, protocol: 'UDP' }, { name: 'tcp', port: 7000 }] }] : [],
});

const PINGS = /^(\d+) pings of (\d+) bytes: p50 \d+ us p99 \d+ us, \d+ resent\n$/;

describe('UDP datagrams on the node network', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('echoes between containers of one pod, pods by IP, and through a Service by name and ClusterIP', async () => {
    const node = new NodeNetwork();
    const server = pod(node, 'echo-0', '10.42.0.5');
    const other = pod(node, 'client-0', '10.42.0.6');
    node.setServices([echoService(['10.42.0.5'])]);
    const echo = await startComponent(runtime, exampleBytes('udp-echo'), 'udp-echo', { network: server.view('echo'), env: [['PORT', '7001']] });
    await echo.printed('listening on udp 7001');
    expect(server.network.udp.openPorts).toEqual([7001]);

    const run = async (view: ReturnType<typeof server.view>, host: string, port = '7001', pings = '20', size = '64') => {
      const client = await startComponent(runtime, exampleBytes('udp-client'), 'udp-client', { network: view, args: ['udp-client', host, port, pings, size] });
      const exit = await client.container.exited;
      return { exitCode: exit.exitCode, stdout: client.stdout(), stderr: client.stderr() };
    };
    const sibling = await run(server.view('client'), '127.0.0.1');
    expect(sibling).toMatchObject({ exitCode: 0, stderr: '' });
    expect(PINGS.exec(sibling.stdout)?.slice(1)).toEqual(['20', '64']);
    // another pod by pod IP; the largest datagram ipv4 carries
    expect(await run(other.view('client'), '10.42.0.5', '7001', '5', '65507')).toMatchObject({ exitCode: 0, stderr: '' });
    // the Service's UDP port 53 by name and ClusterIP: per flow to the endpoint's 7001, and the
    // replies come from the ClusterIP (the client's socket is connected to it and takes them)
    expect(await run(other.view('client'), 'echo-svc', '53')).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await run(other.view('client'), '10.96.0.21', '53')).toMatchObject({ exitCode: 0, stderr: '' });
    expect(node.udp.flows.size).toBe(2);

    // errors
    expect((await run(other.view('client'), '10.42.0.5', '7001', '1', '65508')).stderr).toBe('udp-client: send 10.42.0.5:7001 failed: datagram-too-large\n');
    expect((await run(other.view('client'), '192.0.2.7', '7001', '1')).stderr).toBe('udp-client: send 192.0.2.7:7001 failed: access-denied\n');
    const second = await startComponent(runtime, exampleBytes('udp-echo'), 'udp-echo', { network: server.view('echo2'), env: [['PORT', '7001']] });
    expect((await second.container.exited).exitCode).toBe(1);
    expect(second.stderr()).toBe('udp-echo: bind 0.0.0.0:7001 failed: address-in-use\n');
    const deny: DesiredNetworkPolicy = { namespace: 'default', name: 'deny-udp', pods: [{ ip: '10.42.0.5' }], ingress: [{ ports: [{ protocol: 'TCP', port: 7001 }] }] };
    node.policies.set([deny]);
    expect((await run(other.view('client'), '10.42.0.5', '7001', '1')).stderr).toBe('udp-client: send 10.42.0.5:7001 failed: connection-refused\n');
    node.policies.set([{ ...deny, ingress: [{ ports: [{ protocol: 'UDP', port: 7001 }] }] }]);
    expect(await run(other.view('client'), '10.42.0.5', '7001', '1')).toMatchObject({ exitCode: 0 });
    node.policies.set([]);
    node.setServices([echoService([])]);
    expect((await run(other.view('client'), 'echo-svc', '53', '1')).stderr).toBe('udp-client: send echo-svc:53 failed: connection-refused\n');

    await echo.container.stop(5_000);
    expect(server.network.udp.openPorts).toEqual([]);
  }, 300_000);
});
