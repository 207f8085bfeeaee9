// NetworkPolicy and egress as a user sees them, with the real kubectl, control plane, agent and
// runtime (the http-fetch example): frontend -> web-svc answers until a default-deny policy on the
// backends refuses it (connection-refused, a RequestFailed event naming the policy), and again once
// a policy allows the frontend on the backends' named port; a pod reaching "outside" (a real HTTP
// server on 127.0.0.1, named outside.test by the agent's resolver) through an ExternalName
// Service: out through the agent's network where --allow-egress allows it, refused once an egress
// policy selects the pod, allowed again by an ipBlock rule.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { answer, exampleManifest, freePort } from './http-answers.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'network policy e2e'))('NetworkPolicy and egress, with the real kubectl', () => {
  let cluster: Cluster;
  let outside: Server;
  let outsidePort: number;
  const kubectl = (args: string[], input?: string) => cluster.kubectlOk(args, input);

  beforeAll(async () => {
    outside = createHttpServer((req, res) => res.end(`outside host=${req.headers.host}`)).listen(0, '127.0.0.1');
    await once(outside, 'listening');
    outsidePort = (outside.address() as AddressInfo).port;
    cluster = await startCluster({
      agentEgress: {
        allow: ['127.0.0.1/32'],
        lookup: async (name) => {
          if (name === 'outside.test') return ['127.0.0.1'];
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        },
      },
      examples: ['http-fetch'],
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    outside?.close();
  });

  it('refuses the frontend once a policy denies ingress to the backends, and lets it in again once a policy allows it', async () => {
    const port = await freePort();
    const yaml = exampleManifest('http-fetch/frontend-backend.yaml', { hostPort: port });
    await kubectl(['apply', '-f', '-'], yaml);
    const url = `http://127.0.0.1:${port}/hello`;
    expect((await answer(url, (status) => status === 200, 240_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await kubectl(['get', 'pods,endpoints,events', '-o', 'wide'])}`);
    })).body).toMatch(/^fetched http:\/\/web-svc\/hello: 200 web-/);

    const policies = readFileSync('wasm-examples/http-fetch/network-policy.yaml', 'utf8').split('\n---\n');
    expect(await kubectl(['apply', '-f', '-'], policies[0])).toContain('networkpolicy.networking.k8s.io/web-deny-all created');
    const refused = await answer(url, (status) => status === 502, 60_000);
    expect(refused.body).toBe('fetched http://web-svc/hello: failed: connection-refused\n');
    const event = await waitFor<Event>(cluster.client, `${NS}/events`, (e) => e.object.reason === 'RequestFailed' && /NetworkPolicy/.test(e.object.message ?? ''), 30_000)
      .catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await kubectl(['get', 'events', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message'])}`);
      });
    expect(event.involvedObject.name).toMatch(/^frontend-/);
    expect(event.message).toMatch(/^Container frontend: GET http:\/\/web-svc\/hello failed with connection-refused: dial tcp 10\.42\.\d+\.\d+:8080: connection denied by NetworkPolicy: ingress of pod default\/web-\S+ \(10\.42\.\d+\.\d+\) is restricted by default\/web-deny-all and no rule allows it from pod default\/frontend-\S+ \(10\.42\.\d+\.\d+\)$/);

    expect(await kubectl(['apply', '-f', '-'], policies[1])).toContain('networkpolicy.networking.k8s.io/web-from-frontend created');
    expect((await answer(url, (status) => status === 200, 60_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await kubectl(['get', 'events', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message'])}` +
        `\n${await kubectl(['get', 'pods', '-o', 'wide', '--show-labels'])}\n${await kubectl(['get', 'netpol', '-o', 'yaml'])}`);
    })).body).toMatch(/^fetched http:\/\/web-svc\/hello: 200 web-/);
    expect(await kubectl(['get', 'networkpolicies'])).toMatch(/web-from-frontend\s+app=web/);
  }, 420_000);

  it('reaches outside through an ExternalName Service where egress is allowed; an egress policy refuses it, an ipBlock rule allows it', async () => {
    const port = await freePort();
    const fetcher = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fetcher', labels: { app: 'fetcher' } },
      spec: { containers: [{ name: 'fetcher', image: 'examples/http-fetch:latest', env: [{ name: 'TARGET_URL', value: `http://api-outside:${outsidePort}/` }], ports: [{ containerPort: 8081, hostPort: port }] }] },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api-outside' }, spec: { type: 'ExternalName', externalName: 'outside.test' } };
    expect(await kubectl(['apply', '-f', '-'], JSON.stringify(service))).toContain('service/api-outside created');
    await kubectl(['apply', '-f', '-'], JSON.stringify(fetcher));
    const url = `http://127.0.0.1:${port}/`;
    const ok = `fetched http://api-outside:${outsidePort}/: 200 outside host=api-outside:${outsidePort}\n`;
    expect((await answer(url, (status) => status === 200, 240_000)).body).toBe(ok);

    const policy = (egress: unknown[]) => JSON.stringify({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'fetcher-egress' },
      spec: { podSelector: { matchLabels: { app: 'fetcher' } }, policyTypes: ['Egress'], egress },
    });
    await kubectl(['apply', '-f', '-'], policy([{ to: [{ podSelector: {} }] }])); // pods of the namespace only
    expect((await answer(url, (status) => status === 502)).body).toBe(`fetched http://api-outside:${outsidePort}/: failed: connection-refused\n`);
    const event = await waitFor<Event>(cluster.client, `${NS}/events`, (e) => e.object.reason === 'RequestFailed' && /fetcher-egress/.test(e.object.message ?? ''), 30_000);
    expect(event.message).toContain(`dial tcp 127.0.0.1:${outsidePort}: connection denied by NetworkPolicy: egress of pod default/fetcher`);

    await kubectl(['apply', '-f', '-'], policy([{ to: [{ ipBlock: { cidr: '127.0.0.0/8', except: ['127.0.0.2/32'] } }], ports: [{ port: outsidePort }] }]));
    expect((await answer(url, (status) => status === 200)).body).toBe(ok);
  }, 360_000);

  it('reaches the API server from a guest at https://kubernetes.default.svc (the kubernetes Service), and hand-written Endpoints are mirrored', async () => {
    const port = await freePort();
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-caller' },
      spec: { containers: [{ name: 'main', image: 'examples/http-fetch:latest', env: [{ name: 'TARGET_URL', value: 'https://kubernetes.default.svc/version' }], ports: [{ containerPort: 8081, hostPort: port }] }] },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    const version = await answer(`http://127.0.0.1:${port}/`, (status) => status === 200, 240_000);
    expect(version.body).toMatch(/^fetched https:\/\/kubernetes.default.svc\/version: 200 \{.*"gitVersion":"v1\.\d+/s);
    expect(await kubectl(['get', 'service', 'kubernetes'])).toMatch(/kubernetes\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+443\/TCP/);
    expect(await kubectl(['get', 'endpoints', 'kubernetes'])).toMatch(/kubernetes\s+127\.0\.0\.1:\d+/);

    // a Service without a selector and its Endpoints, by hand: mirrored to an EndpointSlice
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { ports: [{ name: 'pg', port: 5432 }] } }));
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db' }, subsets: [{ addresses: [{ ip: '192.0.2.42' }], ports: [{ name: 'pg', port: 5432 }] }] }));
    const slices = await poll('the mirrored slice', async () => {
      const out = await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=db', '-o', 'json']);
      const items = (JSON.parse(out) as { items: Array<{ metadata: { labels: Record<string, string> }; endpoints: Array<{ addresses: string[] }> }> }).items;
      return items.length === 1 ? items : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(slices[0]!.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslicemirroring-controller.k8s.io');
    expect(slices[0]!.endpoints[0]!.addresses).toEqual(['192.0.2.42']);
  }, 360_000);
});
