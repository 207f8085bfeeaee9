// Raw TCP between real guests on one agent, through WasmPodRuntime and the agent's NodeNetwork
// (real PodNetworks): two containers of one pod over 127.0.0.1, pod to pod by pod IP, through a
// Service by DNS name and ClusterIP; connection-refused when nothing listens or a Service has no
// Ready endpoints; the agent's own byte stream (port-forward's) to a guest listener and to an
// HTTP handler's port; seeded fuzz of the connect routing with hostile addresses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { openPodByteStream } from '../../../agent/network/pod-byte-stream.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { PodNetworkError, type HttpResponse } from '../../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../../contracts/runtime.contract.js';
import { startComponent } from '../../runtime/support/run-components.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

function pod(node: NodeNetwork, name: string, ip: string, namespace = 'default') {
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    resolve: async (host) => node.resolve(namespace, host),
    connect: async (host, port, localPort) => node.connect({ namespace, network }, host, port, localPort),
  });
  node.attach(ip, { namespace, name, network });
  let instance = 0;
  return { network, view: (container: string) => network.ports(`${name}/${container}/${instance++}`, container) };
}

const echoService = (ips: string[]): DesiredService => ({
  namespace: 'default', name: 'echo-svc', clusterIP: '10.96.0.20',
  ports: [{ name: 'echo', port: 7000 }],
  endpoints: ips.length > 0 ? [{ ips, ports: [{ name: 'echo', port: 7000 }] }] : [],
});

const ECHOED = /^echoed (\d+) bytes in [\d.]+ ms \([\d.]+ MB\/s\)/;

describe('TCP streams on the node network', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('connects containers of one pod, pods by IP, and through a Service by name and ClusterIP', async () => {
    const node = new NodeNetwork();
    const server = pod(node, 'echo-0', '10.42.0.5');
    const other = pod(node, 'client-0', '10.42.0.6');
    node.setServices([echoService(['10.42.0.5'])]);
    const echo = await startComponent(runtime, exampleBytes('tcp-echo'), 'tcp-echo', { network: server.view('echo'), env: [['PORT', '7000']] });
    await echo.printed('listening on 7000');
    expect(server.network.holder(7000)).toMatchObject({ kind: 'listener', container: 'echo' });

    const run = async (view: ReturnType<typeof server.view>, host: string, bytes: number) => {
      const client = await startComponent(runtime, exampleBytes('tcp-client'), 'tcp-client', { network: view, args: ['tcp-client', host, '7000', String(bytes)] });
      const exit = await client.container.exited;
      return { exitCode: exit.exitCode, stdout: client.stdout(), stderr: client.stderr() };
    };
    // a sibling container of the same pod, on its loopback
    const sibling = await run(server.view('client'), '127.0.0.1', 1 << 20);
    expect(sibling).toMatchObject({ exitCode: 0, stderr: '' });
    expect(ECHOED.exec(sibling.stdout)?.[1]).toBe(String(1 << 20));
    // another pod, by pod IP: 8 MiB through 256 KiB rings proves backpressure and order
    const byIP = await run(other.view('client'), '10.42.0.5', 8 << 20);
    expect(byIP).toMatchObject({ exitCode: 0, stderr: '' });
    expect(ECHOED.exec(byIP.stdout)?.[1]).toBe(String(8 << 20));
    // the Service, by DNS name (ip-name-lookup answers the ClusterIP) and by ClusterIP
    expect(await run(other.view('client'), 'echo-svc', 4096)).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await run(other.view('client'), 'echo-svc.default.svc.cluster.local', 4096)).toMatchObject({ exitCode: 0 });
    expect(await run(other.view('client'), '10.96.0.20', 4096)).toMatchObject({ exitCode: 0 });
    await echo.printed('echoed 4096 bytes\necho');

    // errors: nothing on the port, a Service without Ready endpoints, an address nobody has
    expect((await run(other.view('client'), '10.42.0.6', 1)).stderr).toBe('tcp-client: connect 10.42.0.6:7000 failed: connection-refused\n');
    node.setServices([echoService([])]);
    expect((await run(other.view('client'), 'echo-svc', 1)).stderr).toBe('tcp-client: connect echo-svc:7000 failed: connection-refused\n');
    expect((await run(other.view('client'), '192.0.2.7', 1)).stderr).toBe('tcp-client: connect 192.0.2.7:7000 failed: access-denied\n');
    expect((await run(other.view('client'), 'nope', 1)).stderr).toBe('tcp-client: resolve nope:7000 failed: name-unresolvable\n');

    // the agent's own stream (port-forward's) to the guest listener
    const stream = openPodByteStream(server.network, 7000);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    stream.end(Buffer.from('hello over the ring'));
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('hello over the ring');
    await echo.container.stop(5_000);
    expect(server.network.holder(7000)).toBeUndefined();
    expect(() => openPodByteStream(server.network, 7000)).toThrow(/connection refused/);
  }, 300_000);
});

describe('the connect routing', () => {
  it('reaches an HTTP handler port as a byte stream (HTTP/1.1 parsed in process)', async () => {
    const node = new NodeNetwork();
    const web = pod(node, 'web-0', '10.42.0.9');
    web.network.serveHttp('web-0/web/0', { name: 'web', ports: [{ containerPort: 8080 }] }, async (request): Promise<HttpResponse> =>
      ({ status: 200, headers: [['content-type', 'text/plain']], body: new TextEncoder().encode(`hi ${request.method} ${request.pathWithQuery}`) }));
    const stream = openPodByteStream(web.network, 8080);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    stream.write('GET /x HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    await ended;
    const response = Buffer.concat(chunks).toString();
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response.endsWith('hi GET /x')).toBe(true);
  });

  it('applies NetworkPolicies to connects, by pod IP and through a Service (after the endpoint was chosen)', () => {
    const node = new NodeNetwork();
    const server = pod(node, 'echo-0', '10.42.0.5');
    const client = pod(node, 'client-0', '10.42.0.6');
    node.setServices([echoService(['10.42.0.5'])]);
    server.network.ports('echo-0/echo/0', 'echo').listening(7000, 'TCP', () => ({ buffer: new SharedArrayBuffer(4), index: 0 }));
    const connect = (host: string) => {
      try {
        node.connect({ namespace: 'default', network: client.network }, host, 7000, 40_000);
        return 'connected';
      } catch (error) {
        return `${(error as PodNetworkError).code}: ${(error as PodNetworkError).message}`;
      }
    };
    expect(connect('10.42.0.5')).toBe('connected');
    node.policies.set([{ namespace: 'default', name: 'deny-echo', pods: [{ ip: '10.42.0.5' }], ingress: [] }]);
    const denied = 'connection-refused: dial tcp 10.42.0.5:7000: connection denied by NetworkPolicy: ingress of pod default/echo-0 (10.42.0.5) ' +
      'is restricted by default/deny-echo and no rule allows it from pod default/client-0 (10.42.0.6)';
    expect(connect('10.42.0.5')).toBe(denied);
    expect(connect('10.96.0.20')).toBe(denied);
    // the pod's own loopback is never subject to policies
    expect(node.connect({ namespace: 'default', network: server.network }, '127.0.0.1', 7000, 40_000)).toBeTypeOf('function');
  });

  it('answers every hostile address with a PodNetworkError (seeded fuzz)', async () => {
    const node = new NodeNetwork();
    const a = pod(node, 'a', '10.42.0.2');
    node.setServices([echoService(['10.42.0.2', '10.42.1.9'])]);
    const next = seededRandom(11);
    const hosts = ['127.0.0.1', '::1', '0:0:0:0:0:0:0:1', '10.42.0.2', '10.96.0.20', '10.42.1.9', '::', '0.0.0.0', '', '..', '10.96.0.20/../x', 'a'.repeat(100_000)];
    for (let i = 0; i < 500; i++) {
      const host = i < hosts.length ? hosts[i]! : next() < 0.5 ? hostileString(next) : hosts[Math.floor(next() * hosts.length)]!;
      const port = [7000, 0, -1, 65536, 1.5, NaN, Math.floor(next() * 70_000)][Math.floor(next() * 7)]!;
      try {
        // outside addresses are answered later (egress: a rejected promise), the others at once
        await node.connect({ namespace: 'default', network: a.network }, host, port, 40_000);
      } catch (error) {
        expect(error).toBeInstanceOf(PodNetworkError);
        expect((error as PodNetworkError).message.length).toBeLessThan(400);
        continue;
      }
      throw new Error(`connect to ${JSON.stringify(host)}:${port} found a listener`);
    }
  });
});
