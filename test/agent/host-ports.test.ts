// HostPorts with a fake handler: real node:http servers on 127.0.0.1 and a real HTTP client.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerPort, Pod } from '../../api/types/pod.js';
import { HostPorts, type HostPortsOptions } from '../../agent/pods/host-ports.js';
import { PodNetwork, type HttpHandle } from '../../agent/pods/pod-network.js';
import { HttpHandlerError, type HttpRequest } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../mqtt/wait-for.js';

const open: HostPorts[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A TCP port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function hostPorts(options: Partial<HostPortsOptions> = {}) {
  const h = new HostPorts({ address: '127.0.0.1', ...options });
  open.push(h);
  return h;
}

function aPod(name: string, ports: ContainerPort[], uid = `uid-${name}`): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { containers: [{ name: 'web', image: 'x', ports }] } } as Pod;
}

/** A pod's network wired to `h`, as PodWorker wires it. */
function podNetwork(h: HostPorts, pod: Pod) {
  const events: string[] = [];
  const onEvent = (type: string, reason: string, message: string) => events.push(`${type} ${reason}: ${message}`);
  const net = new PodNetwork({ podIP: () => '10.42.0.9', onEvent, observer: h.forPod(pod, onEvent) });
  return { net, events };
}

const text = (s: string) => new TextEncoder().encode(s);
const listening = (h: HostPorts, port: number) => waitFor(`host port ${port} listening`, () => h.bindings.some((b) => b.hostPort === port && b.listening));
const refused = (port: number) => waitFor(`host port ${port} closed`, async () => {
  try {
    await fetch(`http://127.0.0.1:${port}/`);
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
});

describe('hostPorts on the agent', () => {
  it('forwards method, path and query, authority, headers and body to the handler, and its answer back', async () => {
    const port = await freePort();
    const h = hostPorts();
    const seen: Array<{ request: HttpRequest; timeoutMs: number }> = [];
    const handle: HttpHandle = async (request, timeoutMs) => {
      seen.push({ request, timeoutMs });
      return { status: 201, headers: [['x-served-by', 'fake'], ['content-length', '999']], body: text(`got ${request.method} ${request.pathWithQuery}`) };
    };
    const { net, events } = podNetwork(h, aPod('web', [{ containerPort: 80, hostPort: port }]));
    expect(net.serveHttp('u/web/0', { name: 'web', ports: [{ containerPort: 80, hostPort: port }] }, handle)).toEqual([80]);
    await listening(h, port);
    expect(h.bindings).toEqual([{ hostIP: '127.0.0.1', hostPort: port, podUid: 'uid-web', pod: 'default/web', containerPort: 80, listening: true }]);

    const res = await fetch(`http://127.0.0.1:${port}/hello?x=1`, { method: 'POST', body: 'payload', headers: { 'X-Trace': 'abc', 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-served-by')).toBe('fake');
    expect(await res.text()).toBe('got POST /hello?x=1');
    expect(seen).toHaveLength(1);
    const { request, timeoutMs } = seen[0]!;
    expect(timeoutMs).toBe(30_000);
    expect(request).toMatchObject({ method: 'POST', pathWithQuery: '/hello?x=1', scheme: 'http', authority: `127.0.0.1:${port}` });
    expect(new TextDecoder().decode(request.body)).toBe('payload');
    expect(request.headers).toContainEqual(['x-trace', 'abc']);
    expect(request.headers).toContainEqual(['content-type', 'text/plain']);
    // hop-by-hop headers stay on the connection; Host became the authority
    expect(request.headers.map(([n]) => n)).not.toContain('host');
    expect(request.headers.map(([n]) => n)).not.toContain('connection');
    expect(events).toEqual([]);
  });

  it('answers 502 with one line when the handler fails, and 504 when it outlives the request timeout', async () => {
    const port = await freePort();
    const clock = new FakeClock();
    const h = hostPorts({ clock, requestTimeoutMs: 2_000 });
    let calls = 0;
    const handle: HttpHandle = (request) => {
      calls++;
      if (request.pathWithQuery === '/trap') return Promise.reject(new HttpHandlerError('guest trapped: unreachable\nwasm backtrace: ...'));
      return new Promise(() => undefined); // never answers, ignoring its deadline
    };
    const { net } = podNetwork(h, aPod('web', [{ containerPort: 8080, hostPort: port }]));
    net.serveHttp('u/web/0', { name: 'web', ports: [{ containerPort: 8080 }] }, handle);
    await listening(h, port);
    const trapped = await fetch(`http://127.0.0.1:${port}/trap`);
    expect(trapped.status).toBe(502);
    expect(await trapped.text()).toBe('guest trapped: unreachable\n');

    const hanging = fetch(`http://127.0.0.1:${port}/hang`);
    await waitFor('the handler to be called', () => calls === 2);
    clock.advance(3_000);
    const timedOut = await hanging;
    expect(timedOut.status).toBe(504);
    expect(await timedOut.text()).toBe('handler did not respond within 2000 ms\n');
  });

  it('answers 413 to a body over the limit without calling the handler, and 400 to garbage', async () => {
    const port = await freePort();
    const h = hostPorts({ maxBodyBytes: 16 });
    let calls = 0;
    const { net } = podNetwork(h, aPod('web', [{ containerPort: 8080, hostPort: port }]));
    net.serveHttp('u/web/0', { name: 'web' }, async () => {
      calls++;
      return { status: 200, headers: [], body: text('ok') };
    });
    await listening(h, port);
    const big = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body: 'x'.repeat(100) });
    expect(big.status).toBe(413);
    expect(await big.text()).toBe('request body exceeds 16 bytes\n');
    expect(calls).toBe(0);
    const small = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body: 'x'.repeat(16) });
    expect(small.status).toBe(200);

    const socket = connect(port, '127.0.0.1');
    socket.end('NOT HTTP AT ALL\r\n\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    // the server lives on
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });

  it('closes the host port when the handler lets the pod port go, and opens it again on restart', async () => {
    const port = await freePort();
    const h = hostPorts();
    const { net } = podNetwork(h, aPod('web', [{ containerPort: 8080, hostPort: port }]));
    const answer = (body: string): HttpHandle => async () => ({ status: 200, headers: [], body: text(body) });
    net.serveHttp('u/web/0', { name: 'web', ports: [{ containerPort: 8080 }] }, answer('first'));
    await listening(h, port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('first');
    net.release('u/web/0');
    expect(h.bindings).toEqual([]);
    await refused(port);
    net.serveHttp('u/web/1', { name: 'web', ports: [{ containerPort: 8080 }] }, answer('second'));
    await listening(h, port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('second');
    // released while still starting to listen: it does not stay open
    net.release('u/web/1');
    net.serveHttp('u/web/2', { name: 'web', ports: [{ containerPort: 8080 }] }, answer('third'));
    net.release('u/web/2');
    expect(h.bindings).toEqual([]);
    // had that server stayed open, the next one could not listen (HostPortInUse) or would not answer
    const { net: later, events } = podNetwork(h, aPod('web', [{ containerPort: 8080, hostPort: port }]));
    later.serveHttp('u/web/3', { name: 'web', ports: [{ containerPort: 8080 }] }, answer('fourth'));
    await listening(h, port).catch((e) => { throw new Error(`${e}: ${JSON.stringify(events)}`); });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('fourth');
    expect(events).toEqual([]);
  });

  it('reports a host port another process holds (EADDRINUSE) or another pod holds, and keeps the pod port', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    blockers.push(blocker);
    await once(blocker, 'listening');
    const h = hostPorts();
    const handle: HttpHandle = async () => ({ status: 200, headers: [], body: text('ok') });
    const a = podNetwork(h, aPod('a', [{ containerPort: 8080, hostPort: port }]));
    a.net.serveHttp('u/a/0', { name: 'web', ports: [{ containerPort: 8080 }] }, handle);
    const inUse = await waitFor('the HostPortInUse event', () => a.events.find((e) => e.startsWith('Warning HostPortInUse')));
    expect(inUse).toBe(`Warning HostPortInUse: Cannot expose port 8080/TCP of container web on host port 127.0.0.1:${port}: listen tcp 127.0.0.1:${port}: bind: address already in use`);
    expect(h.bindings).toEqual([]);
    expect(a.net.holder(8080)?.kind).toBe('http'); // the pod keeps serving in its own network

    // the process lets go; the next time the pod port opens, the agent tries again
    await new Promise((resolve) => blocker.close(resolve));
    a.net.release('u/a/0');
    a.net.serveHttp('u/a/1', { name: 'web', ports: [{ containerPort: 8080 }] }, handle);
    await listening(h, port);

    const b = podNetwork(h, aPod('b', [{ containerPort: 9000, hostPort: port }]));
    b.net.serveHttp('u/b/0', { name: 'web', ports: [{ containerPort: 9000 }] }, handle);
    expect(b.events).toEqual([`Warning HostPortInUse: Cannot expose port 9000/TCP of container web on host port 127.0.0.1:${port}: already in use by pod default/a`]);
    expect(h.bindings.map((x) => x.pod)).toEqual(['default/a']);
    // b going away does not close a's server
    b.net.release('u/b/0');
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });

  it('does not carry raw TCP listeners or UDP host ports: a Warning event each, no server', async () => {
    const port = await freePort();
    const h = hostPorts();
    const pod = aPod('raw', [{ containerPort: 7000, hostPort: port }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }]);
    const { net, events } = podNetwork(h, pod);
    expect(events).toEqual(['Warning HostPortNotSupported: Host port 5353/UDP is not exposed: skiff exposes TCP host ports only']);
    net.ports('u/raw/0', 'web').listening(7000, 'TCP');
    expect(events[1]).toBe(`Warning HostPortNotSupported: Host port 127.0.0.1:${port} is not exposed: port 7000/TCP is a raw TCP listener of container web, and skiff carries only HTTP to wasi:http handler containers (no data path to guest sockets)`);
    expect(h.bindings).toEqual([]);
  });

  it('listens on the port\'s hostIP when it names one', () => {
    const h = hostPorts({ address: '192.0.2.1' });
    const pod = aPod('ip', [{ containerPort: 80, hostPort: 8081, hostIP: '127.0.0.1' } as ContainerPort, { containerPort: 81, hostPort: 8082 }]);
    expect(h.mappings(pod).map((m) => `${m.hostIP}:${m.hostPort}->${m.containerPort}`)).toEqual(['127.0.0.1:8081->80', '192.0.2.1:8082->81']);
  });
});
