// NodePorts on one agent with real sockets (agent/network/node-ports.ts and service-entry.ts): the
// node listens on `<node-ip>:<nodePort>` (127.0.0.2 here), clients connect from their own loopback
// address (127.0.0.9). What the pod sees as the source: with externalTrafficPolicy Cluster the node
// (kube-proxy's SNAT), with Local the client, for an HTTP handler (x-forwarded-for) and for a raw
// TCP guest listener (its accepted connection's remote address and port). Cluster carries a request
// to an endpoint on another node as from this node; Local never does (503 saying so); the port
// closes when the Service goes.
import { request } from 'node:http';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { NodePorts } from '../../../agent/network/node-ports.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { duplexAcceptor } from '../../../runtime/net/ring-duplex.js';
import type { HttpRequest, HttpResponse } from '../../../runtime/pod-runtime.js';
import { waitFor } from '../../mqtt/wait-for.js';

const NODE_IP = '127.0.0.2';
const CLIENT_IP = '127.0.0.9';

/** A port free on the node address (the Service's nodePort). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, NODE_IP);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET through the node port from CLIENT_IP: status and body. */
function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: NODE_IP, port, path, localAddress: CLIENT_IP, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw TCP exchange from CLIENT_IP: what came back, and the client's own port. */
function exchange(port: number, payload: string): Promise<{ echoed: string; clientPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: NODE_IP, port, localAddress: CLIENT_IP });
    const chunks: Buffer[] = [];
    let clientPort = 0;
    socket.on('connect', () => {
      clientPort = socket.localPort ?? 0;
      socket.end(payload);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve({ echoed: Buffer.concat(chunks).toString(), clientPort }));
    socket.on('error', reject);
  });
}

describe('NodePorts: the source address the pod sees', () => {
  const network = new NodeNetwork();
  const nodePorts = new NodePorts({ address: NODE_IP, network });
  /** Remote address and port of each connection the raw guest accepted. */
  const accepted: Array<{ host: string; port: number } | undefined> = [];
  let webPort: number;
  let rawPort: number;
  let awayPort: number;

  const services = (local: boolean): DesiredService[] => {
    const policy = local ? { externalTrafficPolicy: 'Local' as const } : {};
    return [
      { namespace: 'default', name: 'web', clusterIP: '10.43.0.10', ports: [{ port: 80, nodePort: webPort }], endpoints: [{ ips: ['10.42.1.2'], ports: [{ port: 8080 }] }], ...policy },
      { namespace: 'default', name: 'raw', clusterIP: '10.43.0.11', ports: [{ port: 7000, nodePort: rawPort }], endpoints: [{ ips: ['10.42.1.3'], ports: [{ port: 7000 }] }], ...policy },
      // its only endpoint runs on another node
      { namespace: 'default', name: 'away', clusterIP: '10.43.0.12', ports: [{ port: 80, nodePort: awayPort }], endpoints: [{ ips: ['10.42.2.9'], ports: [{ port: 8080 }] }], ...policy },
    ];
  };
  const listening = (ports: number[]) => waitFor('listening', () =>
    (ports.every((p) => nodePorts.listeners.some((l) => l.nodePort === p && l.listening)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });

  beforeAll(async () => {
    [webPort, rawPort, awayPort] = [await freePort(), await freePort(), await freePort()];
    const web = new PodNetwork({ podIP: () => '10.42.1.2' });
    web.serveHttp('web/main/0', { name: 'main', ports: [{ containerPort: 8080 }] }, async (r: HttpRequest): Promise<HttpResponse> => {
      const forwarded = r.headers.filter(([name]) => name === 'x-forwarded-for').map(([, value]) => value).join(', ');
      return { status: 200, headers: [], body: new TextEncoder().encode(`forwarded-for ${forwarded}`) };
    });
    network.attach('10.42.1.2', { namespace: 'default', name: 'web', network: web });
    const raw = new PodNetwork({ podIP: () => '10.42.1.3' });
    raw.ports('raw/main/0', 'main').listening(7000, 'TCP', duplexAcceptor((stream, end) => {
      accepted.push(end.from);
      stream.on('error', () => undefined);
      stream.on('data', (chunk: Buffer) => stream.write(chunk));
      stream.on('end', () => stream.end());
    }));
    network.attach('10.42.1.3', { namespace: 'default', name: 'raw', network: raw });
    // node-2 runs 10.42.2.0/24; what is carried there answers with the node and the source it was given
    network.peers.set([{ node: 'node-2', podCIDR: '10.42.2.0/24', address: '127.0.0.3', port: 1 }]);
    network.remote = {
      request: async (peer, podIP, _port, r, _timeoutMs, sourceIP) => {
        const forwarded = r.headers.filter(([name]) => name === 'x-forwarded-for').map(([, value]) => value).join(', ');
        return { status: 200, headers: [], body: new TextEncoder().encode(`${peer.node} ${podIP} source ${sourceIP} forwarded-for ${forwarded}`) };
      },
    };
  });
  afterAll(async () => {
    await nodePorts.close();
  });

  it('shows the node as the source with externalTrafficPolicy Cluster (SNAT), to an HTTP handler and to a raw TCP guest', async () => {
    network.setServices(services(false));
    await listening([webPort, rawPort, awayPort]);
    expect(await get(webPort, '/a')).toEqual({ status: 200, body: `forwarded-for ${NODE_IP}` });
    const before = accepted.length;
    expect((await exchange(rawPort, 'cluster')).echoed).toBe('cluster');
    expect(accepted.slice(before)).toEqual([{ host: NODE_IP, port: 0 }]);
    // an endpoint on another node, carried there as from this node
    expect(await get(awayPort)).toEqual({ status: 200, body: `node-2 10.42.2.9 source ${NODE_IP} forwarded-for ${NODE_IP}` });
  });

  it('keeps the client\'s address and port with externalTrafficPolicy Local, and only this node\'s endpoints', async () => {
    network.setServices(services(true));
    await listening([webPort, rawPort, awayPort]);
    expect(await get(webPort, '/b')).toEqual({ status: 200, body: `forwarded-for ${CLIENT_IP}` });
    const before = accepted.length;
    const { echoed, clientPort } = await exchange(rawPort, 'local');
    expect(echoed).toBe('local');
    expect(accepted.slice(before)).toEqual([{ host: CLIENT_IP, port: clientPort }]);
    expect(await get(awayPort)).toEqual({ status: 503, body: 'service default/away has no ready endpoints on this node (externalTrafficPolicy: Local)\n' });
  });

  it('closes a port when its Service goes: connections are refused', async () => {
    network.setServices(services(true).filter((s) => s.name !== 'raw'));
    await waitFor('closed', () => (nodePorts.listeners.some((l) => l.nodePort === rawPort) ? undefined : true), { timeoutMs: 10_000, intervalMs: 20 });
    await expect(exchange(rawPort, 'gone')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await get(webPort)).status).toBe(200);
  });
});
