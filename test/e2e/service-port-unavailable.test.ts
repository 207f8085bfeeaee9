// A LoadBalancer (and NodePort) port that one node cannot bind, because another process holds it
// there: the Service gets a Warning PortUnavailable event naming the node and port (kubectl
// describe shows it), status.loadBalancer.ingress lists only the nodes that serve it, and once the
// port is free the agent binds it (retried every 10 s) and the node is back in the status.
// Two real agents on 127.0.0.2 and 127.0.0.3, real kubectl.
import { execFile } from 'node:child_process';
import { createServer, type Server, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Service } from '../../control-plane/resources/kinds/services.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'port-unavailable e2e'))('a Service port a node cannot bind', () => {
  let cluster: Cluster;
  let blocker: Server;
  let port: number;
  const kubectl = (args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 }).then((r) => r.stdout);

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true });
    // another process holds the port on node-2's address only
    blocker = createServer((socket) => socket.end('not skiff\n'));
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.3', port: 0, exclusive: true }, resolve));
    port = (blocker.address() as AddressInfo).port;
  }, 240_000);
  afterAll(async () => {
    blocker?.close();
    await cluster?.stop();
  });

  it('records an event naming node and port, and serves the LoadBalancer from the other node until the port is free', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', selector: { app: 'none' }, ports: [{ port, targetPort: 8080 }] } };
    expect((await cluster.client.request('POST', `${NS}/services`, svc)).status).toBe(201);
    const event = await waitFor<Event>(cluster.client, `${NS}/events?fieldSelector=involvedObject.name%3Dlb`, (e) => e.object.reason === 'PortUnavailable', 90_000);
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(`node node-2 (127.0.0.3) cannot bind port ${port}/TCP: EADDRINUSE (in use by another process on the node)`);
    expect(event.message).not.toContain('node-1');
    const served = await waitFor<Service>(cluster.client, `${NS}/services?fieldSelector=metadata.name%3Dlb`,
      (e) => JSON.stringify(e.object.status?.loadBalancer?.ingress ?? []) === JSON.stringify([{ ip: '127.0.0.2' }]), 60_000);
    expect(served.status!.loadBalancer!.ingress).toEqual([{ ip: '127.0.0.2' }]);
    expect(await kubectl(['describe', 'service', 'lb'])).toMatch(/Warning\s+PortUnavailable\s+.*node node-2 \(127\.0\.0\.3\) cannot bind port/);
    // node-1 does listen on its address (the port answers there, not with the blocker's text)
    expect(cluster.agents[0]!.nodePorts.listeners.find((l) => l.nodePort === port)?.listening).toBe(true);

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const both = await waitFor<Service>(cluster.client, `${NS}/services?fieldSelector=metadata.name%3Dlb`,
      (e) => (e.object.status?.loadBalancer?.ingress ?? []).length === 2, 60_000);
    expect(both.status!.loadBalancer!.ingress).toEqual([{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }]);
    expect(cluster.agents[1]!.nodePorts.unserved).toEqual([]);
  }, 240_000);
});
