// The pod network as a user sees it: with the real kubectl, a Service and two Deployments of the
// http-fetch example (backends answering with their pod names, a frontend calling
// http://web-svc/<path> by DNS name, exposed on a hostPort) on one agent. Requests from outside go
// hostPort -> frontend -> Service -> a Ready backend, round robin; the frontend gets connection-
// refused once the backends are gone (a RequestFailed event), and a pod reaches the Service
// through the service environment variables with $(VAR) expansion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { answer, exampleManifest, freePort } from './http-answers.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'pod network e2e'))('Services between pods on one agent, with the real kubectl', () => {
  let cluster: Cluster;
  let port: number;
  const kubectl = (args: string[], input?: string) => cluster.kubectlOk(args, input);

  beforeAll(async () => {
    cluster = await startCluster({ examples: ['http-fetch'] });
    port = await freePort();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('carries frontend -> web-svc -> Ready backends, round robin, and refuses once they are gone', async () => {
    const yaml = exampleManifest('http-fetch/frontend-backend.yaml', { hostPort: port });
    const applied = await kubectl(['apply', '-f', '-'], yaml);
    expect(applied).toContain('service/web-svc created');
    expect(applied).toContain('deployment.apps/web created');
    expect(applied).toContain('deployment.apps/frontend created');

    const url = `http://127.0.0.1:${port}/hello`;
    const first = await answer(url, (status) => status === 200, 240_000); // a loaded machine: pulls, starts, probes
    expect(first.body).toMatch(/^fetched http:\/\/web-svc\/hello: 200 web-[a-z0-9]+-[a-z0-9]+ \/hello\n\n$/);
    // both backends Ready: requests alternate between them
    await waitFor<{ subsets?: Array<{ addresses?: unknown[] }> }>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Dweb-svc`,
      (e) => (e.object.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0) === 2, 60_000);
    const pods = new Set<string>();
    const seen = await poll('both backends answering', async () => {
      const response = await fetch(url);
      const pod = /200 (web-\S+) \/hello/.exec(await response.text())?.[1];
      if (pod) pods.add(pod);
      return pods.size === 2 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 50 });
    expect(seen).toBe(true);
    const names = (await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort();
    expect([...pods].sort()).toEqual(names);

    // the backends go: the frontend gets connection-refused (no hang), and its pod a Warning event
    expect(await kubectl(['scale', 'deployment/web', '--replicas=0'])).toContain('scaled');
    // Until the agent's Service table drops the gone endpoints, a request may still pick one whose pod
    // has already stopped (502 destination-unavailable: no such pod on this node); then it is refused.
    const refused = await answer(url, (status, body) => status === 502 && body.includes('connection-refused'), 60_000);
    expect(refused.body).toBe('fetched http://web-svc/hello: failed: connection-refused\n');
    // the window above may first record a destination-unavailable RequestFailed: wait for the refusal's
    const event = await waitFor<Event>(cluster.client, `${NS}/events`,
      (e) => e.object.reason === 'RequestFailed' && (e.object.message ?? '').includes('failed with connection-refused'), 30_000);
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.name).toMatch(/^frontend-/);
    expect(event.message).toBe('Container frontend: GET http://web-svc/hello failed with connection-refused: service default/web-svc has no ready endpoints');

    // back again
    expect(await kubectl(['scale', 'deployment/web', '--replicas=1'])).toContain('scaled');
    expect((await answer(url, (status) => status === 200, 90_000)).body).toMatch(/: 200 web-/);
  }, 360_000);

  it('gives pods the Service variables, usable in $(VAR) expansion', async () => {
    const envPort = await freePort();
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'by-env' },
      spec: {
        containers: [{
          name: 'main', image: 'examples/http-fetch:latest',
          env: [{ name: 'TARGET_URL', value: 'http://$(WEB_SVC_SERVICE_HOST):$(WEB_SVC_SERVICE_PORT)/env' }],
          ports: [{ containerPort: 8080, hostPort: envPort }],
        }],
      },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
    const svc = JSON.parse(await kubectl(['get', 'service', 'web-svc', '-o', 'json'])) as { spec: { clusterIP: string } };
    const result = await answer(`http://127.0.0.1:${envPort}/`, (status) => status === 200, 90_000);
    expect(result.body).toMatch(new RegExp(`^fetched http://${svc.spec.clusterIP.replaceAll('.', '\\.')}:80/env: 200 web-\\S+ /env\\n\\n$`));
    const running = await waitFor<Pod>(cluster.client, `${NS}/pods?fieldSelector=metadata.name%3Dby-env`, (e) => e.object.status?.phase === 'Running');
    expect(running.status?.podIP).toBeTruthy();
  }, 120_000);
});
