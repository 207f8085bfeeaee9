import { describe, expect, it } from 'vitest';
import { PROBE_USER_AGENT } from '../../agent/pods/network-probes.js';
import type { HttpResponse } from '../../runtime/pod-runtime.js';
import { respond, setupProbedPod, type FakeHandler, type ProbeSetupOptions } from './probe-fixture.js';

/** The pod's `main` container is an HTTP handler answering with `handler`. */
const serving = (handler: FakeHandler, options: ProbeSetupOptions = {}): ProbeSetupOptions => ({
  ...options,
  prepare: (runtime) => runtime.handlers.set('main', handler),
});

const httpGet = (httpGetAction: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ httpGet: { port: 8080, ...httpGetAction }, periodSeconds: 1, failureThreshold: 1, ...extra });

describe('httpGet probes', () => {
  it('send the kubelet\'s request to the handler container on its port, and Ready follows 200 <= status < 400', async () => {
    let status = 200;
    const t = setupProbedPod({
      readinessProbe: httpGet({ path: '/healthz?full=1', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, { timeoutSeconds: 3 }),
    }, serving(() => respond(status)));
    await t.flush();
    expect(t.status()?.ready).toBe(false);
    await t.advance(500);
    expect(t.status()?.ready).toBe(true);
    expect(t.ready()).toBe('True');
    expect(t.runtime.requests[0]).toEqual({
      container: 'main',
      timeoutMs: 3000,
      request: {
        method: 'GET', pathWithQuery: '/healthz?full=1', scheme: 'http', authority: '10.42.1.3:8080',
        headers: [['x-probe', 'yes'], ['user-agent', PROBE_USER_AGENT], ['accept', '*/*']], body: new Uint8Array(),
      },
    });
    expect(PROBE_USER_AGENT).toBe('kube-probe/1.32');
    const seen: Array<[number, boolean | undefined]> = [];
    for (const code of [399, 400, 302, 503, 204, 199, 500, 200]) {
      status = code;
      await t.advance(1000);
      seen.push([code, t.status()?.ready]);
    }
    expect(seen).toEqual([[399, true], [400, false], [302, true], [503, false], [204, true], [199, false], [500, false], [200, true]]);
    expect(t.unhealthy()).toEqual([
      'Readiness probe failed: HTTP probe failed with statuscode: 400',
      'Readiness probe failed: HTTP probe failed with statuscode: 503',
      'Readiness probe failed: HTTP probe failed with statuscode: 199',
      'Readiness probe failed: HTTP probe failed with statuscode: 500',
    ]);
  });

  it('restart a container whose liveness probe fails failureThreshold times in a row', async () => {
    let status = 200;
    const t = setupProbedPod({ livenessProbe: httpGet({ path: '/status' }, { failureThreshold: 3 }) }, serving(() => respond(status)));
    await t.advance(1000);
    status = 500;
    await t.advance(2000); // two failures: not yet
    expect(t.runtime.latest('main').stopped).toBe(false);
    await t.advance(1000);
    expect(t.runtime.containers[0]!.stopped).toBe(true);
    expect(t.events.find((e) => e.reason === 'Killing')!.message).toBe('Container main failed liveness probe, will be restarted');
    // three failures killed the first instance (the restarted one may have failed once since)
    expect(t.unhealthy().slice(0, 3)).toEqual(Array(3).fill('Liveness probe failed: HTTP probe failed with statuscode: 500'));
    await t.flush();
    expect(t.runtime.containers).toHaveLength(2);
    expect(t.status()).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137 } } });
    // the new instance serves the port again
    status = 200;
    await t.advance(1000);
    expect(t.runtime.requests.at(-1)!.request.pathWithQuery).toBe('/status');
    expect(t.runtime.containers[1]!.stopped).toBe(false);
  });

  it('fail with the kubelet\'s deadline message when the handler does not answer within timeoutSeconds', async () => {
    const t = setupProbedPod({ readinessProbe: httpGet({ path: '/slow' }, { timeoutSeconds: 2 }) },
      serving(() => new Promise<HttpResponse>(() => undefined)));
    await t.flush();
    await t.advance(1900);
    expect(t.unhealthy()).toEqual([]);
    await t.advance(200);
    expect(t.unhealthy()).toEqual([
      'Readiness probe failed: Get "http://10.42.1.3:8080/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    ]);
    expect(t.status()?.ready).toBe(false);
  });

  it('report a handler error (trap, no response) as the request\'s failure', async () => {
    const t = setupProbedPod({ readinessProbe: httpGet({}) }, serving(() => Promise.reject(new Error('guest trapped: unreachable'))));
    await t.advance(500);
    expect(t.unhealthy()).toEqual(['Readiness probe failed: Get "http://10.42.1.3:8080/": guest trapped: unreachable']);
  });

  it('are refused when nothing listens on the port', async () => {
    const t = setupProbedPod({ readinessProbe: httpGet({ path: 'healthz', port: 9090 }) }, serving(() => respond(200)));
    await t.advance(500);
    expect(t.status()?.ready).toBe(false);
    expect(t.unhealthy()).toEqual([
      'Readiness probe failed: Get "http://10.42.1.3:9090/healthz": dial tcp 10.42.1.3:9090: connect: connection refused',
    ]);
  });

  it('resolve a named port against the container\'s ports, and error on an unknown name', async () => {
    const t = setupProbedPod({
      ports: [{ name: 'web', containerPort: 8081 }, { name: 'metrics', containerPort: 9100 }],
      readinessProbe: httpGet({ port: 'web' }),
      livenessProbe: httpGet({ port: 'admin' }, { failureThreshold: 5 }),
    }, serving(() => respond(200)));
    await t.advance(500);
    expect(t.status()?.ready).toBe(true);
    expect(t.runtime.requests.map((r) => r.request.authority)).toEqual(['10.42.1.3:8081']);
    expect(t.unhealthy()).toEqual(['Liveness probe errored: port admin not found']);
  });

  it('pass the scheme and a Host header as the authority; an empty Accept removes the default', async () => {
    const t = setupProbedPod({
      readinessProbe: httpGet({ scheme: 'HTTPS', httpHeaders: [{ name: 'Host', value: 'example.test' }, { name: 'Accept', value: '' }, { name: 'User-Agent', value: 'mine' }] }),
    }, serving(() => respond(200), { podIP: null }));
    await t.advance(500);
    expect(t.status()?.ready).toBe(true);
    expect(t.runtime.requests[0]!.request).toMatchObject({ scheme: 'https', authority: 'example.test', headers: [['user-agent', 'mine']] });
  });

  it('target 127.0.0.1 in messages when the pod has no IP, and refuse hosts outside the pod', async () => {
    const t = setupProbedPod({
      readinessProbe: httpGet({ port: 9999 }),
      livenessProbe: httpGet({ host: '192.0.2.7' }, { failureThreshold: 5 }),
    }, serving(() => respond(200), { podIP: null }));
    await t.advance(500);
    expect(t.unhealthy().sort()).toEqual([
      'Liveness probe failed: Get "http://192.0.2.7:8080/": host 192.0.2.7 is not this pod: skiff probes reach only the pod\'s own network (its IP is 127.0.0.1)',
      'Readiness probe failed: Get "http://127.0.0.1:9999/": dial tcp 127.0.0.1:9999: connect: connection refused',
    ]);
  });

  it('fail clearly on a port held by a raw TCP listener (no HTTP data path to guest sockets)', async () => {
    const t = setupProbedPod({ readinessProbe: httpGet({ port: 7000 }, { initialDelaySeconds: 1 }) });
    await t.flush();
    t.runtime.listen('main', 7000);
    await t.advance(1000);
    expect(t.unhealthy()).toEqual([
      'Readiness probe failed: Get "http://10.42.1.3:7000/": port 7000 is a raw TCP listener of container main: skiff sends HTTP only to wasi:http handler containers (no HTTP data path to guest sockets yet)',
    ]);
  });

  it('gate startup on an httpGet startup probe', async () => {
    let status = 503;
    const t = setupProbedPod({ startupProbe: httpGet({}, { failureThreshold: 10 }) }, serving(() => respond(status)));
    await t.advance(2000);
    expect(t.status()).toMatchObject({ started: false, ready: false });
    status = 200;
    await t.advance(1000);
    expect(t.status()).toMatchObject({ started: true, ready: true });
  });
});

describe('tcpSocket probes', () => {
  const tcp = (port: number | string, extra: Record<string, unknown> = {}) => ({ tcpSocket: { port }, periodSeconds: 1, failureThreshold: 1, ...extra });

  it('succeed while a guest of the pod listens on the port, and are refused otherwise', async () => {
    const t = setupProbedPod({ readinessProbe: tcp(7000, { initialDelaySeconds: 1 }) });
    await t.flush();
    expect(t.status()?.ready).toBe(false);
    t.runtime.listen('main', 7000);
    await t.advance(1000);
    expect(t.status()?.ready).toBe(true);
    t.runtime.unlisten('main', 7000);
    await t.advance(1000);
    expect(t.status()?.ready).toBe(false);
    expect(t.unhealthy()).toEqual(['Readiness probe failed: dial tcp 10.42.1.3:7000: connect: connection refused']);
  });

  it('see every container\'s ports (one network namespace per pod), by number or by name', async () => {
    const t = setupProbedPod({ ports: [{ name: 'peer', containerPort: 8080 }], readinessProbe: tcp('peer'), livenessProbe: tcp(6000, { failureThreshold: 3 }) }, {
      others: [{ name: 'web' }, { name: 'listener' }],
      prepare: (runtime) => runtime.handlers.set('web', () => respond(200)),
    });
    await t.flush();
    t.runtime.listen('listener', 6000);
    await t.advance(500);
    expect(t.status()?.ready).toBe(true);
    expect(t.unhealthy()).toEqual([]);
  });

  it('free a port when the container that opened it ends', async () => {
    const t = setupProbedPod({ readinessProbe: tcp(6000, { initialDelaySeconds: 1 }) }, { others: [{ name: 'listener' }] });
    await t.flush();
    t.runtime.listen('listener', 6000);
    await t.advance(1000);
    expect(t.status()?.ready).toBe(true);
    const first = t.runtime.containers.find((c) => c.name === 'listener')!;
    expect(first.stopped).toBe(false);
    await stopInstance(t, 'listener');
    await t.advance(1000);
    expect(t.status()?.ready).toBe(false);
    expect(t.unhealthy()).toEqual(['Readiness probe failed: dial tcp 10.42.1.3:6000: connect: connection refused']);
  });
});

/** Ends the current instance of a container as if it crashed (the runtime does not report closed ports). */
async function stopInstance(t: ReturnType<typeof setupProbedPod>, name: string): Promise<void> {
  const worker = t.manager.findPod('default', 'probed')!;
  const running = worker.runningContainers.find((c) => c.name === name)!.container;
  await running.stop(0);
  await t.flush();
}
