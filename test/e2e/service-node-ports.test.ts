// NodePort and LoadBalancer Services as a user reaches them: real kubectl and curl, a real control
// plane and two agents on their own loopback addresses (127.0.0.2, 127.0.0.3, as `skiff up
// --agents 2` gives them), a Deployment of http-health with one pod per node. Every agent serves
// the nodePort and forwards into the Service's Ready endpoints, on its node or through the agents'
// tunnel; externalTrafficPolicy Local keeps the client's address and the node's own endpoint; a LoadBalancer is served on every node's `port` with
// status.loadBalancer.ingress the nodes' addresses, and a second one wanting the same port stays
// pending with a Warning event until the first is gone.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Endpoints, Service } from '../../control-plane/resources/kinds/services.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { curl, until } from './curl.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';
const NODE_IPS = ['127.0.0.2', '127.0.0.3'];

/** A port free on every node address (the LoadBalancer's). */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer().listen(0, NODE_IPS[0]);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const other = createServer().listen(port, NODE_IPS[1]);
    const ok = await Promise.race([once(other, 'listening').then(() => true), once(other, 'error').then(() => false)]);
    await new Promise((resolve) => other.close(resolve));
    if (ok) return port;
  }
}

const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: 2, selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
        containers: [{
          name: 'main', image: 'examples/http-health:latest', ports: [{ containerPort: 8080 }],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2, timeoutSeconds: 10 },
        }],
      },
    },
  },
};

describe.skipIf(!hasTool('kubectl', 'NodePort and LoadBalancer e2e'))('NodePort and LoadBalancer Services on two agents', () => {
  let cluster: Cluster;
  let nodePort: number;
  const podOn: Record<string, string> = {};
  const kubectl = (args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 }).then((r) => r.stdout);
  const service = (name: string) => cluster.client.request<Service>('GET', `${NS}/services/${name}`).then((r) => r.body);

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, loopbackNodeIPs: true });
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    expect((await cluster.client.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment)).status).toBe(201);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-np' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    expect((await cluster.client.request('POST', `${NS}/services`, svc)).status).toBe(201);
    await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Dweb-np`,
      (e) => (e.object.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 2, 180_000);
    nodePort = (await service('web-np')).spec.ports![0]!.nodePort!;
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { hostIP: string } }> };
    for (const p of pods.items) podOn[p.status.hostIP] = p.metadata.name;
    expect(Object.keys(podOn).sort()).toEqual(NODE_IPS);
  }, 240_000);
  afterAll(async () => {
    if (process.env['SKIFF_TEST_TRACE']) console.log(await kubectl(['get', 'pods,endpoints,services,events', '-o', 'wide']));
    await cluster?.stop();
  });

  it('allocates a nodePort in 30000-32767, and a taken one is refused with 422 as the real server does', async () => {
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    const clash = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'clash' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort }] } };
    const answer = await cluster.client.request<{ details: { causes: Array<{ field: string; message: string }> } }>('POST', `${NS}/services`, clash);
    expect(answer.status).toBe(422);
    expect(answer.body.details.causes[0]).toMatchObject({ field: 'spec.ports[0].nodePort' });
    expect(answer.body.details.causes[0]!.message).toContain('provided port is already allocated');
  });

  it('serves the nodePort on every agent\'s address, into the Ready endpoints of both nodes (the tunnel for the other one)', async () => {
    for (const ip of NODE_IPS) {
      const answer = await until(`http://${ip}:${nodePort}/hello?x=1`, (a) => a.status === 200);
      expect(answer.body).toBe('ok GET /hello?x=1\n');
      // externalTrafficPolicy Cluster: the pod sees the node as the source (SNAT)
      expect(answer.headers['x-seen-forwarded-for']).toBe(ip);
      expect((await curl(`http://${ip}:${nodePort}/status/418`)).status).toBe(418);
      const servedBy = new Set<string>();
      for (let i = 0; i < 6 && servedBy.size < 2; i++) {
        const a = await curl(`http://${ip}:${nodePort}/rr`);
        expect(a.status).toBe(200);
        servedBy.add(a.headers['x-pod-name']!);
      }
      expect([...servedBy].sort()).toEqual(Object.values(podOn).sort());
    }
  }, 180_000);

  it('keeps the client address and the node\'s own endpoint with externalTrafficPolicy: Local', async () => {
    await kubectl(['patch', 'service', 'web-np', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}']);
    for (const ip of NODE_IPS) {
      const answer = await until(`http://${ip}:${nodePort}/who`, (a) => a.headers['x-seen-forwarded-for'] === '127.0.0.9', { source: '127.0.0.9' });
      expect(answer.headers['x-pod-name']).toBe(podOn[ip]);
      // every request stays on this node (with Cluster they alternate between both pods)
      for (let i = 0; i < 6; i++) {
        const again = await curl(`http://${ip}:${nodePort}/who`, { source: '127.0.0.9' });
        expect([again.headers['x-pod-name'], again.headers['x-seen-forwarded-for']]).toEqual([podOn[ip], '127.0.0.9']);
      }
    }
  }, 120_000);

  it('answers 503 for a Service without Ready endpoints, and closes the port when the Service goes', async () => {
    const empty = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { type: 'NodePort', selector: { app: 'nothing' }, ports: [{ port: 80 }] } };
    const created = await cluster.client.request<Service>('POST', `${NS}/services`, empty);
    const port = created.body.spec.ports![0]!.nodePort!;
    const answer = await until(`http://127.0.0.3:${port}/`, (a) => a.status === 503);
    expect(answer.body).toBe('service default/empty has no ready endpoints\n');
    await kubectl(['delete', 'service', 'empty']);
    await poll('closed', () => curl(`http://127.0.0.3:${port}/`).then(() => undefined, (e: Error) => (/Connection refused|Failed to connect/.test(e.message) ? true : undefined)), { timeoutMs: 60_000, intervalMs: 200 });
  }, 120_000);

  it('carries raw TCP to a wasi:sockets listener behind a NodePort (the tcp-echo example)', async () => {
    await cluster.cp.registry.push('examples/tcp-echo:latest', readFileSync('wasm-examples/tcp-echo/tcp-echo.wasm'));
    const echo = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo', labels: { app: 'echo' } }, spec: {
      nodeName: 'node-1', containers: [{ name: 'echo', image: 'examples/tcp-echo:latest', env: [{ name: 'PORT', value: '7000' }], ports: [{ name: 'echo', containerPort: 7000 }],
        readinessProbe: { tcpSocket: { port: 'echo' }, periodSeconds: 1 } }] } };
    expect((await cluster.client.request('POST', `${NS}/pods`, echo)).status).toBe(201);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo-np' }, spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'echo', port: 7000, targetPort: 'echo' }] } };
    const port = (await cluster.client.request<Service>('POST', `${NS}/services`, svc)).body.spec.ports![0]!.nodePort!;
    await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Decho-np`, (e) => (e.object.subsets ?? []).some((x) => (x.addresses ?? []).length > 0), 120_000);
    const payload = Buffer.alloc(256 * 1024, 'skiff ');
    const echoed = await poll('echo', async () => {
      const received: Buffer[] = [];
      const socket = connect({ host: '127.0.0.2', port });
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = await new Promise<boolean>((resolve) => {
        socket.on('connect', () => socket.end(payload));
        socket.on('end', () => resolve(true));
        socket.on('error', () => resolve(false));
        socket.setTimeout(20_000, () => resolve(false)); // a stuck attempt must not eat the whole wait
      });
      socket.destroy();
      return ended && Buffer.concat(received).equals(payload) ? true : undefined;
    }, { timeoutMs: 150_000, intervalMs: 500 });
    expect(echoed).toBe(true);
  }, 240_000);

  it('exposes a LoadBalancer on every node\'s port (ServiceLB); a second one on the same port stays pending with an event', async () => {
    const port = await freePort();
    const lb = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port, targetPort: 8080 }] } });
    expect((await cluster.client.request('POST', `${NS}/services`, lb('lb-a'))).status).toBe(201);
    const a = await waitFor<Service>(cluster.client, `${NS}/services?fieldSelector=metadata.name%3Dlb-a`, (e) => (e.object.status?.loadBalancer?.ingress ?? []).length === 2, 60_000);
    expect(a.status!.loadBalancer!.ingress).toEqual(NODE_IPS.map((ip) => ({ ip })));
    for (const ip of NODE_IPS) {
      const answer = await until(`http://${ip}:${port}/lb`, (a) => a.status === 200);
      expect(answer.body).toBe('ok GET /lb\n');
    }
    expect((await cluster.client.request('POST', `${NS}/services`, lb('lb-b'))).status).toBe(201);
    const event = await waitFor<Event>(cluster.client, `${NS}/events?fieldSelector=involvedObject.name%3Dlb-b`, (e) => e.object.reason === 'SyncLoadBalancerFailed', 60_000);
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(`port ${port}/TCP is already used by LoadBalancer default/lb-a`);
    expect(await kubectl(['get', 'service', 'lb-b'])).toMatch(/lb-b\s+LoadBalancer\s+\S+\s+<pending>/);
    // the first goes: the second gets the port
    await kubectl(['delete', 'service', 'lb-a']);
    const b = await waitFor<Service>(cluster.client, `${NS}/services?fieldSelector=metadata.name%3Dlb-b`, (e) => (e.object.status?.loadBalancer?.ingress ?? []).length === 2, 60_000);
    expect(b.status!.loadBalancer!.ingress).toEqual(NODE_IPS.map((ip) => ({ ip })));
    expect(await kubectl(['get', 'service', 'lb-b'])).toMatch(/lb-b\s+LoadBalancer\s+\S+\s+127\.0\.0\.2,127\.0\.0\.3/);
    expect((await curl(`http://127.0.0.3:${port}/b`)).body).toBe('ok GET /b\n');
  }, 180_000);
});
