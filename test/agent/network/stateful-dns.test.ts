// StatefulSet stable network identity in the pod DNS: `<hostname>.<headless service>` with the
// pod's search path (web-0.web, web-0.web.ns, web-0.web.ns.svc, web-0.web.ns.svc.cluster.local)
// resolves to that pod's IP and routes requests to it; the Endpoints controller sets the hostname
// only for pods whose subdomain is the Service, and publishNotReadyAddresses publishes not-ready
// pods; hostile names never throw anything but a DNS error.
import { describe, expect, it } from 'vitest';
import type { DesiredService } from '../../../api/mqtt/messages.js';
import { planEndpoints } from '../../../control-plane/controllers/endpoints/endpoints-plan.js';
import type { Service } from '../../../control-plane/controllers/workload-kinds.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { PodNetwork } from '../../../agent/pods/pod-network.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../../runtime/pod-runtime.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { aManagedPod } from '../../control-plane/controllers/workload-builders.js';

const headless: DesiredService = {
  namespace: 'shop', name: 'web', clusterIP: 'None', ports: [{ name: 'http', port: 8080 }],
  hosts: [{ hostname: 'web-0', ip: '10.42.0.7' }, { hostname: 'web-1', ip: '10.42.0.8' }],
  endpoints: [{ ips: ['10.42.0.7', '10.42.0.8'], ports: [{ name: 'http', port: 8080 }] }],
};

function server(node: NodeNetwork, name: string, ip: string, namespace = 'shop') {
  const network: PodNetwork = new PodNetwork({ podIP: () => ip, onEvent: () => {}, route: (r, ms) => node.httpRequest({ namespace, network }, r, ms), now: () => 0 });
  network.serveHttp(`${name}/web/0`, { name: 'web', ports: [{ containerPort: 8080 }] }, async (r: HttpRequest): Promise<HttpResponse> =>
    ({ status: 200, headers: [], body: new TextEncoder().encode(`${name} ${r.authority}`) }));
  node.attach(ip, { namespace, name, network });
  return network;
}

describe('StatefulSet pod DNS', () => {
  it('resolves <pod>.<headless service> with the search path, from its namespace and from another', async () => {
    const node = new NodeNetwork();
    node.setServices([headless]);
    for (const name of ['web-0.web', 'web-0.web.shop', 'web-0.web.shop.svc', 'WEB-0.web.shop.svc.cluster.local.']) expect(node.resolve('shop', name)).toEqual(['10.42.0.7']);
    expect(node.resolve('default', 'web-1.web.shop')).toEqual(['10.42.0.8']);
    expect(node.resolve('default', 'web-1.web.shop.svc.cluster.local')).toEqual(['10.42.0.8']);
    // the Service itself still answers with all its pods
    expect(node.resolve('shop', 'web')).toEqual(['10.42.0.7', '10.42.0.8']);
    // another namespace's bare `web-0.web` is not this one; unknown hostnames are no such host
    expect(() => node.resolve('default', 'web-0.web')).toThrow(PodNetworkError);
    expect(() => node.resolve('shop', 'web-2.web')).toThrow(PodNetworkError);
    expect(await node.lookup({ namespace: 'shop', network: server(node, 'client', '10.42.0.9') }, 'web-1.web')).toEqual(['10.42.0.8']);
  });

  it('routes a request to web-0.web to that pod, not round robin', async () => {
    const node = new NodeNetwork();
    node.setServices([headless]);
    server(node, 'web-0', '10.42.0.7');
    server(node, 'web-1', '10.42.0.8');
    const client = server(node, 'client', '10.42.0.9');
    const view = client.ports('client/c/0', 'c', 'spec.containers{c}');
    const get = async (authority: string) => new TextDecoder().decode((await view.httpRequest!({ method: 'GET', pathWithQuery: '/', scheme: 'http', authority, headers: [], body: new Uint8Array() }, { timeoutMs: 10_000 })).body);
    for (let i = 0; i < 3; i++) expect(await get('web-0.web:8080')).toBe('web-0 web-0.web:8080');
    expect(await get('web-1.web.shop.svc.cluster.local:8080')).toBe('web-1 web-1.web.shop.svc.cluster.local:8080');
  });

  it('Endpoints carry the hostname only for pods whose subdomain is the Service; publishNotReadyAddresses publishes not-ready pods', () => {
    const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 8080 }] } };
    const withIdentity = (name: string, ip: string, ready: boolean, subdomain: string) => {
      const p = aManagedPod(name, { node: 'n1', ready });
      p.status!.podIP = ip;
      p.spec.hostname = name;
      p.spec.subdomain = subdomain;
      return p;
    };
    const pods = [withIdentity('web-0', '10.42.1.2', true, 'web'), withIdentity('web-1', '10.42.1.3', false, 'web'), withIdentity('other-0', '10.42.1.4', true, 'other')];
    const plan = planEndpoints(svc, pods);
    expect(plan.subsets[0]!.addresses?.map((a) => [a.ip, a.hostname])).toEqual([['10.42.1.2', 'web-0'], ['10.42.1.4', undefined]]);
    expect(plan.subsets[0]!.notReadyAddresses?.map((a) => a.hostname)).toEqual(['web-1']);
    expect(plan.sliceEndpoints.map((e) => e.hostname)).toEqual(['web-0', 'web-1', undefined]);
    const published = planEndpoints({ ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } }, pods);
    expect(published.subsets[0]!.addresses?.map((a) => a.hostname)).toEqual(['web-0', 'web-1', undefined]);
  });

  it('hostile names only ever fail with a DNS error (seeded)', () => {
    const node = new NodeNetwork();
    node.setServices([headless]);
    const next = seededRandom(3614);
    const pieces = ['web-0', 'web', 'shop', 'svc', 'cluster', 'local', '.', '..', '', 'web-1'];
    for (let i = 0; i < 3000; i++) {
      const name = next() < 0.5 ? hostileString(next) : Array.from({ length: 1 + Math.floor(next() * 6) }, () => pieces[Math.floor(next() * pieces.length)]).join('.');
      try {
        const ips = node.resolve(next() < 0.5 ? 'shop' : 'default', name);
        expect(Array.isArray(ips)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(PodNetworkError);
      }
    }
  });
});
