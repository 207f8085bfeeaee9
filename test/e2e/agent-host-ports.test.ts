// hostPort end to end: a real control plane, agent and runtime serve the http-health example's
// wasi:http handler on 127.0.0.1:<hostPort> (the harness agents' node IP), reached with Node's fetch.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const byName = (path: string, name: string) => `${path}?fieldSelector=metadata.name%3D${name}`;
const ready = (pod: Pod) => pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
  await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** A TCP port free on 127.0.0.1 right now (a server listening on it when `hold`). */
async function freePort(hold = false): Promise<{ port: number; server: Server }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  if (!hold) await new Promise((resolve) => server.close(resolve));
  return { port, server };
}

const webPod = (name: string, hostPort: number) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'main', image: 'examples/http-health:latest', ports: [{ name: 'http', containerPort: 8080, hostPort }] }] },
});

/** Fetches until the host port answers (the agent opens it once the container serves). */
const get = (port: number, path: string) => poll(`http://127.0.0.1:${port}${path}`, async () => {
  try {
    return await fetch(`http://127.0.0.1:${port}${path}`);
  } catch {
    return undefined;
  }
}, { timeoutMs: 30_000, intervalMs: 100 });

describe('hostPort on the agent', () => {
  it('serves a wasi:http pod on its hostPort while it runs, and closes the port when the pod is deleted', async () => {
    const { port } = await freePort();
    expect((await cluster.client.request('POST', PODS, webPod('web-host', port))).status).toBe(201);
    const pod = await waitFor<Pod>(cluster.client, byName(PODS, 'web-host'), (e) => ready(e.object), 30_000);
    expect(pod.status?.hostIP).toBe('127.0.0.1');

    // generous: each request runs the handler in a fresh instance (a worker under test)
    const hello = await get(port, '/hello?name=skiff');
    expect(hello.status).toBe(200);
    expect(hello.headers.get('x-served-by')).toBe('http-health');
    expect(await hello.text()).toBe('ok GET /hello?name=skiff\n');
    const teapot = await fetch(`http://127.0.0.1:${port}/status/418`);
    expect(teapot.status).toBe(418);
    expect(await teapot.text()).toBe('status 418\n');
    const posted = await fetch(`http://127.0.0.1:${port}/form`, { method: 'POST', body: 'a=1' });
    expect(await posted.text()).toBe('ok POST /form\n');
    // the handler saw the requests (its log lines), as it would behind wasmtime serve
    const logged = await poll('the requests in the logs', async () => {
      const text = (await cluster.client.request<string>('GET', `${PODS}/web-host/log`)).text;
      return /^GET \/hello\?name=skiff 200$/m.test(text) && /^GET \/status\/418 418$/m.test(text);
    }, { timeoutMs: 20_000, intervalMs: 200 });
    expect(logged).toBe(true);

    expect((await cluster.client.request('DELETE', `${PODS}/web-host`)).status).toBe(200);
    const refused = await poll('the host port to close', async () => {
      try {
        await fetch(`http://127.0.0.1:${port}/hello`);
        return false;
      } catch (error) {
        return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
      }
    }, { timeoutMs: 30_000, intervalMs: 100 });
    expect(refused).toBe(true);
  }, 90_000);

  it('reports a hostPort another process holds with a Warning event, the pod running and Ready', async () => {
    const { port, server } = await freePort(true);
    try {
      expect((await cluster.client.request('POST', PODS, webPod('web-taken', port))).status).toBe(201);
      const event = await waitFor<Event>(cluster.client, `${NS}/events`, (e) =>
        e.object.involvedObject.name === 'web-taken' && e.object.reason === 'HostPortInUse', 30_000);
      expect(event).toMatchObject({
        type: 'Warning',
        message: `Cannot expose port 8080/TCP of container main on host port 127.0.0.1:${port}: listen tcp 127.0.0.1:${port}: bind: address already in use`,
      });
      expect(event.involvedObject.fieldPath).toBe('spec.containers{main}');
      const pod = await waitFor<Pod>(cluster.client, byName(PODS, 'web-taken'), (e) => ready(e.object), 30_000);
      expect(pod.status?.phase).toBe('Running');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});
