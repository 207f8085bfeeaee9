import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_PORT, PodNetwork, handlerPorts } from '../../agent/pods/pod-network.js';
import { respond, setupProbedPod } from './probe-fixture.js';

function network(podIP: string | null = '10.42.0.9') {
  const events: string[] = [];
  const net = new PodNetwork({ podIP: () => podIP ?? undefined, onEvent: (type, reason, message) => events.push(`${type} ${reason}: ${message}`) });
  return { net, events };
}

const handle = async () => respond(200);

describe('a pod network', () => {
  it('records the TCP listeners the runtime reports, per container instance', () => {
    const { net } = network();
    const a = net.ports('u/a/0', 'a');
    a.listening(7000, 'TCP');
    a.listening(7001, 'TCP');
    expect(net.openPorts).toEqual([7000, 7001]);
    expect(net.holder(7000)).toEqual({ kind: 'listener', container: 'a', owner: 'u/a/0' });
    // every view names the one namespace, so the runtime keeps guest binds exclusive across the pod
    expect(a.namespace).toBe(net);
    expect(net.ports('u/b/0', 'b').namespace).toBe(net);
    a.closed(7000, 'TCP');
    expect(net.openPorts).toEqual([7001]);
    a.listening(0, 'TCP');
    a.listening(70000, 'TCP');
    expect(net.openPorts).toEqual([7001]);
  });

  it('lets only the holder close a port, and refuses a second opener with a Warning event', () => {
    const { net, events } = network();
    net.ports('u/a/0', 'a').listening(7000, 'TCP');
    const b = net.ports('u/b/0', 'b', 'spec.containers{b}');
    b.listening(7000, 'TCP');
    expect(events).toEqual(['Warning PortInUse: Container b cannot listen on port 7000/TCP: already in use by container a']);
    b.closed(7000, 'TCP');
    expect(net.holder(7000)?.container).toBe('a');
    // the same instance listening again is no conflict
    net.ports('u/a/0', 'a').listening(7000, 'TCP');
    expect(events).toHaveLength(1);
  });

  it('puts an HTTP handler on its declared TCP containerPorts, or on 8080 when it declares none', () => {
    expect(DEFAULT_HTTP_PORT).toBe(8080);
    expect(handlerPorts({})).toEqual([8080]);
    expect(handlerPorts({ ports: [{ containerPort: 53, protocol: 'UDP' }] })).toEqual([8080]);
    expect(handlerPorts({ ports: [{ name: 'web', containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 81, protocol: 'TCP' }] })).toEqual([80, 81]);
    const { net } = network();
    expect(net.serveHttp('u/web/0', { name: 'web', ports: [{ containerPort: 80 }, { containerPort: 81 }] }, handle)).toEqual([80, 81]);
    expect(net.holder(81)).toMatchObject({ kind: 'http', container: 'web', owner: 'u/web/0' });
  });

  it('gives a handler only the ports still free', () => {
    const { net, events } = network();
    net.ports('u/raw/0', 'raw').listening(80, 'TCP');
    expect(net.serveHttp('u/web/0', { name: 'web', ports: [{ containerPort: 80 }, { containerPort: 81 }] }, handle)).toEqual([81]);
    expect(events).toEqual(['Warning PortInUse: Container web cannot listen on port 80/TCP: already in use by container raw']);
  });

  it('releases everything an instance held when it ends', () => {
    const { net } = network();
    net.serveHttp('u/web/0', { name: 'web' }, handle);
    net.ports('u/web/0', 'web').listening(9000, 'TCP');
    net.ports('u/other/0', 'other').listening(9001, 'TCP');
    net.release('u/web/0');
    expect(net.openPorts).toEqual([9001]);
  });

  it('names the pod by its IP, else 127.0.0.1', () => {
    expect(network('10.42.0.9').net.host).toBe('10.42.0.9');
    expect(network(null).net.host).toBe('127.0.0.1');
  });
});

describe('the pod network of a running pod', () => {
  it('serves an HTTP-handler container\'s port while it runs, and frees it when it ends', async () => {
    const t = setupProbedPod({ readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }, {
      restartPolicy: 'Never',
      others: [{ name: 'web' }],
      prepare: (runtime) => runtime.handlers.set('web', () => respond(200)),
    });
    await t.advance(500);
    // a handler counts as a running, started container; with no probe of its own it is ready
    expect(t.status('web')).toMatchObject({ ready: true, started: true, state: { running: {} } });
    expect(t.status()?.ready).toBe(true);
    const worker = t.manager.findPod('default', 'probed')!;
    await worker.runningContainers.find((c) => c.name === 'web')!.container.stop(0);
    await t.advance(1000);
    expect(t.status('web')?.state.terminated).toBeDefined();
    expect(t.status()?.ready).toBe(false);
    expect(t.unhealthy()).toEqual(['Readiness probe failed: dial tcp 10.42.1.3:8080: connect: connection refused']);
  });

  it('reports a second handler on the same port with PortInUse, the first one keeps serving', async () => {
    const t = setupProbedPod({ readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 } }, {
      others: [{ name: 'second' }],
      prepare: (runtime) => {
        runtime.handlers.set('main', () => respond(200, 'main'));
        runtime.handlers.set('second', () => respond(500, 'second'));
      },
    });
    await t.advance(500);
    expect(t.events.filter((e) => e.reason === 'PortInUse').map((e) => e.message)).toEqual([
      'Container second cannot listen on port 8080/TCP: already in use by container main',
    ]);
    expect(t.status()?.ready).toBe(true);
    expect(new Set(t.runtime.requests.map((r) => r.container))).toEqual(new Set(['main']));
  });

  it('passes each container instance its own view of the one pod network', async () => {
    const t = setupProbedPod({}, { others: [{ name: 'b' }] });
    await t.flush();
    t.runtime.listen('b', 7000);
    t.runtime.listen('main', 7000);
    expect(t.events.filter((e) => e.reason === 'PortInUse').map((e) => e.message)).toEqual([
      'Container main cannot listen on port 7000/TCP: already in use by container b',
    ]);
  });
});
