// The node's pod network routing guests' outgoing requests (fake handlers in real PodNetworks):
// loopback, pod IPs, Services by ClusterIP and DNS name (search path), multi-port and named
// targetPorts, Ready endpoints only and round robin, headless, errors as error-codes with a
// Warning event on the calling pod; the Service environment variables; hostile authorities.
import { describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { parseAuthority } from '../../../agent/network/authority.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { serviceEnv } from '../../../agent/network/service-env.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../../runtime/pod-runtime.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const request = (authority: string, path = '/'): HttpRequest => ({ method: 'GET', pathWithQuery: path, scheme: 'http', authority, headers: [], body: new Uint8Array() });

/** A pod on the node whose handler container answers `<pod> <port> <path>` on each port. */
function pod(node: NodeNetwork, name: string, ip: string | undefined, ports: number[], namespace = 'default') {
  const events: string[] = [];
  let now = 0;
  const network: PodNetwork = new PodNetwork({
    podIP: () => ip,
    onEvent: (type, reason, message) => events.push(`${type} ${reason}: ${message}`),
    route: (r, ms): Promise<HttpResponse> => node.httpRequest({ namespace, network }, r, ms),
    now: () => now,
  });
  network.serveHttp(`${name}/web/0`, { name: 'web', ports: ports.map((containerPort) => ({ containerPort })) }, async (r: HttpRequest): Promise<HttpResponse> =>
    ({ status: 200, headers: [], body: new TextEncoder().encode(`${name} ${r.authority} ${r.pathWithQuery}`) }));
  if (ip) node.attach(ip, { namespace, name, network });
  const view = network.ports(`${name}/client/0`, 'client', 'spec.containers{client}');
  const get = async (authority: string, path = '/') => text((await view.httpRequest!(request(authority, path), { timeoutMs: 5_000 })).body);
  const fails = async (authority: string) => {
    try {
      await view.httpRequest!(request(authority), { timeoutMs: 5_000 });
    } catch (error) {
      return (error as PodNetworkError).code;
    }
    return 'answered';
  };
  return { network, events, get, fails, tick: (ms: number) => (now += ms) };
}

const web: DesiredService = {
  namespace: 'default', name: 'web-svc', clusterIP: '10.96.0.10',
  ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }],
  endpoints: [{ ips: ['10.42.0.2', '10.42.0.3'], ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }] }],
};

describe('the node network', () => {
  it('reaches the pod itself on localhost, 127.0.0.1, ::1 and its pod IP', async () => {
    const node = new NodeNetwork();
    const a = pod(node, 'a', '10.42.0.2', [8080]);
    expect(await a.get('localhost:8080', '/x')).toBe('a localhost:8080 /x');
    expect(await a.get('127.0.0.1:8080')).toBe('a 127.0.0.1:8080 /');
    expect(await a.get('[::1]:8080')).toBe('a [::1]:8080 /');
    expect(await a.get('10.42.0.2:8080')).toBe('a 10.42.0.2:8080 /');
    // a pod without an IP still has its loopback
    expect(await pod(node, 'lonely', undefined, [8080]).get('localhost:8080')).toBe('lonely localhost:8080 /');
  });

  it('reaches another pod of the node by its IP, and says connection-refused where nothing listens', async () => {
    const node = new NodeNetwork();
    const a = pod(node, 'a', '10.42.0.2', [8080]);
    pod(node, 'b', '10.42.0.3', [8080]);
    expect(await a.get('10.42.0.3:8080')).toBe('b 10.42.0.3:8080 /');
    expect(await a.fails('10.42.0.3:81')).toBe('connection-refused');
    expect(await a.fails('localhost')).toBe('connection-refused'); // port 80 by default
    expect(await a.fails('192.0.2.1:80')).toBe('destination-IP-prohibited');
    expect(a.events).toEqual([
      'Warning RequestFailed: Container client: GET http://10.42.0.3:81/ failed with connection-refused: dial tcp 10.42.0.3:81: connect: connection refused',
      'Warning RequestFailed: Container client: GET http://localhost/ failed with connection-refused: dial tcp 10.42.0.2:80: connect: connection refused',
      'Warning RequestFailed: Container client: GET http://192.0.2.1:80/ failed with destination-IP-prohibited: egress to 192.0.2.1:80 out of the cluster is denied: pods reach outside addresses only where the agent allows it (--allow-egress CIDR) or an egress rule of a NetworkPolicy selecting the pod does (ipBlock)',
    ]);
    // the same failure again is not a new event for a while
    await a.fails('10.42.0.3:81');
    expect(a.events).toHaveLength(3);
    a.tick(60_000);
    await a.fails('10.42.0.3:81');
    expect(a.events).toHaveLength(4);
  });

  it('balances a Service over its Ready endpoints by ClusterIP and every DNS name, port by port', async () => {
    const node = new NodeNetwork();
    node.setServices([web]);
    const client = pod(node, 'client', '10.42.0.9', []);
    pod(node, 'web-1', '10.42.0.2', [8080, 9090]);
    pod(node, 'web-2', '10.42.0.3', [8080, 9090]);
    const answers = await Promise.all(['10.96.0.10', 'web-svc', 'web-svc.default', 'web-svc.default.svc', 'web-svc.default.svc.cluster.local', 'WEB-SVC.default.svc.cluster.local.']
      .map((host) => client.get(host, '/p')));
    expect(answers.map((a) => a.split(' ')[0]).sort()).toEqual(['web-1', 'web-1', 'web-1', 'web-2', 'web-2', 'web-2']);
    expect(answers[1]).toMatch(/^web-\d web-svc \/p$/); // the authority is passed as the guest wrote it
    // multi-port: 9000 -> the endpoints' "admin" port
    expect((await client.get('web-svc:9000')).split(' ')[0]).toMatch(/^web-\d$/);
    expect(await client.fails('web-svc:81')).toBe('connection-refused');
    expect(await client.fails('nope')).toBe('DNS-error');
    expect(await client.fails('web-svc.other')).toBe('DNS-error');
  });

  it('sends nothing to endpoints that are gone or on other nodes', async () => {
    const node = new NodeNetwork();
    const client = pod(node, 'client', '10.42.0.9', []);
    pod(node, 'web-1', '10.42.0.2', [8080]);
    node.setServices([{ ...web, endpoints: [] }]);
    expect(await client.fails('web-svc')).toBe('connection-refused');
    node.setServices([{ ...web, endpoints: [{ ips: ['10.42.1.7'], ports: [{ name: 'http', port: 8080 }] }] }]);
    expect(await client.fails('web-svc')).toBe('destination-unavailable');
    node.setServices([{ ...web, endpoints: [{ ips: ['10.42.1.7', '10.42.0.2'], ports: [{ name: 'http', port: 8080 }] }] }]);
    for (let i = 0; i < 4; i++) expect(await client.get('web-svc')).toBe('web-1 web-svc /');
    expect(client.events.at(-1)).toMatch(/web-svc\/ failed with destination-unavailable: the ready endpoints of service default\/web-svc run on other nodes/);
  });

  it('keeps a client pod on its endpoint with sessionAffinity ClientIP, until it is gone or the affinity timed out', async () => {
    let now = 0;
    const node = new NodeNetwork(() => now);
    node.setServices([{ ...web, sessionAffinity: 'ClientIP', affinitySeconds: 60 }]);
    const one = pod(node, 'client-1', '10.42.0.8', []);
    const two = pod(node, 'client-2', '10.42.0.9', []);
    pod(node, 'web-1', '10.42.0.2', [8080]);
    pod(node, 'web-2', '10.42.0.3', [8080]);
    const first = (await one.get('web-svc')).split(' ')[0];
    for (let i = 0; i < 5; i++) expect((await one.get('web-svc')).split(' ')[0]).toBe(first);
    const other = (await two.get('web-svc')).split(' ')[0];
    expect(other).not.toBe(first); // the next client got the next endpoint
    for (let i = 0; i < 3; i++) expect((await two.get('web-svc')).split(' ')[0]).toBe(other);
    // its endpoint turned unready: it moves, and stays on the new one
    node.setServices([{ ...web, sessionAffinity: 'ClientIP', affinitySeconds: 60, endpoints: [{ ips: [other === 'web-1' ? '10.42.0.3' : '10.42.0.2'], ports: [{ name: 'http', port: 8080 }] }] }]);
    expect((await two.get('web-svc')).split(' ')[0]).toBe(first);
    node.setServices([{ ...web, sessionAffinity: 'ClientIP', affinitySeconds: 60 }]);
    expect((await two.get('web-svc')).split(' ')[0]).toBe(first);
    now += 61_000; // idle past the timeout: round robin again
    const answers = new Set<string>();
    for (let i = 0; i < 2; i++) {
      now += 61_000;
      answers.add((await two.get('web-svc')).split(' ')[0]!);
    }
    expect(answers.size).toBe(2);
  });

  it('sends nothing to a pod being deleted while the Service has other endpoints here', async () => {
    const node = new NodeNetwork();
    node.setServices([web]);
    const client = pod(node, 'client', '10.42.0.9', []);
    pod(node, 'web-1', '10.42.0.2', [8080]);
    const leaving = new PodNetwork({ podIP: () => '10.42.0.3' });
    leaving.serveHttp('web-2/0', { name: 'web', ports: [{ containerPort: 8080 }] }, async () => ({ status: 200, headers: [], body: new TextEncoder().encode('web-2') }));
    let deleting = false;
    node.attach('10.42.0.3', { namespace: 'default', name: 'web-2', network: leaving, terminating: () => deleting });
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add((await client.get('web-svc')).split(' ')[0]!);
    expect([...answers].sort()).toEqual(['web-1', 'web-2']);
    deleting = true;
    for (let i = 0; i < 4; i++) expect((await client.get('web-svc')).split(' ')[0]).toBe('web-1');
    // the only endpoint left here: it still gets the request (it may still answer)
    node.setServices([{ ...web, endpoints: [{ ips: ['10.42.0.3'], ports: [{ name: 'http', port: 8080 }] }] }]);
    expect(await client.get('web-svc')).toBe('web-2');
  });

  it('answers a headless Service with its pods, on the port asked', async () => {
    const node = new NodeNetwork();
    node.setServices([{ namespace: 'db', name: 'peers', clusterIP: 'None', ports: [], endpoints: [{ ips: ['10.42.0.5'], ports: [] }] }]);
    const client = pod(node, 'client', '10.42.0.9', [], 'db');
    pod(node, 'peer-0', '10.42.0.5', [7000], 'db');
    expect(await client.get('peers:7000')).toBe('peer-0 peers:7000 /');
    expect(await client.fails('peers:7001')).toBe('connection-refused');
  });

  it('turns a failing or slow handler into connection-terminated or HTTP-response-timeout', async () => {
    const node = new NodeNetwork();
    const network: PodNetwork = new PodNetwork({ podIP: () => '10.42.0.2', route: (r, ms): Promise<HttpResponse> => node.httpRequest({ namespace: 'default', network }, r, ms) });
    network.serveHttp('w/0', { name: 'web', ports: [{ containerPort: 1 }] }, async () => {
      throw new Error('the handler trapped: unreachable');
    });
    const { HttpHandlerError } = await import('../../../runtime/pod-runtime.js');
    network.serveHttp('w/1', { name: 'slow', ports: [{ containerPort: 2 }] }, async () => {
      throw new HttpHandlerError('no response within 100 ms');
    });
    network.serveHttp('w/2', { name: 'silent', ports: [{ containerPort: 3 }] }, () => new Promise(() => undefined));
    const view = network.ports('c/0', 'c');
    const code = (authority: string, timeoutMs = 5_000) => view.httpRequest!(request(authority), { timeoutMs }).then(() => 'answered', (e: PodNetworkError) => e.code);
    expect(await code('localhost:1')).toBe('connection-terminated');
    expect(await code('localhost:2')).toBe('HTTP-response-timeout');
    expect(await code('localhost:3', 10)).toBe('HTTP-response-timeout'); // the network's backstop
    view.listening(4, 'TCP');
    expect(await code('localhost:4')).toBe('connection-refused'); // a raw listener gets no HTTP
    expect(await node.requestToPod('10.42.0.2', 1, request('x'), 1_000).catch((e: PodNetworkError) => e.code)).toBe('destination-unavailable');
  });

  it('gives one pod to the streams helper: requestToPod', async () => {
    const node = new NodeNetwork();
    pod(node, 'web-1', '10.42.0.2', [8080]);
    expect(text((await node.requestToPod('10.42.0.2', 8080, request('127.0.0.1:8080', '/pf'), 5_000)).body)).toBe('web-1 127.0.0.1:8080 /pf');
    await expect(node.requestToPod('10.42.0.3', 8080, request('x'), 5_000)).rejects.toMatchObject({ code: 'destination-unavailable' });
  });
});

describe('names in the pod DNS (ip-name-lookup)', () => {
  it('resolves localhost, Services by every name, headless Services to their Ready pods', () => {
    const node = new NodeNetwork();
    node.setServices([web, { namespace: 'db', name: 'peers', clusterIP: 'None', ports: [], endpoints: [{ ips: ['10.42.0.5', '10.42.0.6'], ports: [] }] }]);
    expect(node.resolve('default', 'localhost')).toEqual(['127.0.0.1', '::1']);
    for (const name of ['web-svc', 'web-svc.default', 'web-svc.default.svc', 'Web-Svc.default.svc.cluster.local.']) expect(node.resolve('default', name)).toEqual(['10.96.0.10']);
    expect(node.resolve('db', 'peers')).toEqual(['10.42.0.5', '10.42.0.6']);
    expect(node.resolve('default', 'peers.db.svc.cluster.local')).toEqual(['10.42.0.5', '10.42.0.6']);
    expect(() => node.resolve('db', 'web-svc')).toThrow(PodNetworkError);
    expect(() => node.resolve('default', 'example.com')).toThrow(/no such host/);
  });
});

describe('service environment variables', () => {
  it('are given for the Services of the pod namespace and kubernetes, docker-link style', () => {
    const kubernetes: DesiredService = { namespace: 'default', name: 'kubernetes', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }], endpoints: [] };
    const other: DesiredService = { ...web, namespace: 'other' };
    const headless: DesiredService = { namespace: 'default', name: 'peers', clusterIP: 'None', ports: [{ port: 7000 }], endpoints: [] };
    const env = new Map(serviceEnv([web, kubernetes, other, headless], 'default'));
    expect(Object.fromEntries(env)).toEqual({
      KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443', KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443', KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443', KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
      WEB_SVC_SERVICE_HOST: '10.96.0.10', WEB_SVC_SERVICE_PORT: '80', WEB_SVC_SERVICE_PORT_HTTP: '80', WEB_SVC_SERVICE_PORT_ADMIN: '9000',
      WEB_SVC_PORT: 'tcp://10.96.0.10:80',
      WEB_SVC_PORT_80_TCP: 'tcp://10.96.0.10:80', WEB_SVC_PORT_80_TCP_PROTO: 'tcp', WEB_SVC_PORT_80_TCP_PORT: '80', WEB_SVC_PORT_80_TCP_ADDR: '10.96.0.10',
      WEB_SVC_PORT_9000_TCP: 'tcp://10.96.0.10:9000', WEB_SVC_PORT_9000_TCP_PROTO: 'tcp', WEB_SVC_PORT_9000_TCP_PORT: '9000', WEB_SVC_PORT_9000_TCP_ADDR: '10.96.0.10',
    });
    // enableServiceLinks: false keeps only the kubernetes Service
    expect(serviceEnv([web, kubernetes], 'default', false).map(([k]) => k).every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
  });
});

describe('authorities', () => {
  it('parses host[:port] strictly', () => {
    expect(parseAuthority('web-svc', 'http')).toEqual({ host: 'web-svc', port: 80, kind: 'name' });
    expect(parseAuthority('Web-Svc.default.svc.cluster.local.:8080', 'http')).toEqual({ host: 'web-svc.default.svc.cluster.local', port: 8080, kind: 'name' });
    expect(parseAuthority('10.0.0.1', 'https')).toEqual({ host: '10.0.0.1', port: 443, kind: 'ipv4' });
    expect(parseAuthority('[fd00::1]:81', 'http')).toEqual({ host: 'fd00::1', port: 81, kind: 'ipv6' });
    for (const bad of ['', 'user@host', 'host:0', 'host:65536', 'host:8o', '[::1', '[nope]:80', 'a..b', '-a', 'a_b', 'host:', `${'a'.repeat(64)}.x`, 'a b', 'x'.repeat(301)]) {
      expect(parseAuthority(bad, 'http'), bad).toBeUndefined();
    }
  });

  it('answers hostile authorities with an error-code, never a throw or a hang (seeded fuzz)', async () => {
    const node = new NodeNetwork();
    node.setServices([web]);
    const client = pod(node, 'client', '10.42.0.9', [8080]);
    const next = seededRandom(1109);
    const allowed = new Set(['HTTP-request-URI-invalid', 'DNS-error', 'connection-refused', 'destination-IP-prohibited', 'destination-unavailable', 'answered']);
    for (let i = 0; i < 500; i++) {
      const authority = hostileString(next, 8);
      const parsed = parseAuthority(authority, 'http');
      if (parsed) expect(parsed.port).toBeGreaterThan(0);
      expect(allowed.has(await client.fails(authority)), authority).toBe(true);
    }
  });
});
