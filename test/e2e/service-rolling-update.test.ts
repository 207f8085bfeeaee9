// A rolling update of the backend Deployment while clients keep requesting through the NodePort and
// through the Ingress gateway (which reaches pods through the node's tunnel, decision 040): not one
// request may fail. The agent sends only to Ready endpoints it knows, skips pods being
// deleted while others serve, and sends a request that a stopping container refused before its
// guest saw it to another endpoint (real kubectl, control plane, agent and http-health).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints, Service } from '../../control-plane/resources/kinds/services.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { until } from './curl.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';

const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: 2, selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [{
          name: 'main', image: 'examples/http-health:latest', ports: [{ containerPort: 8080 }],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'VERSION', value: '1' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, timeoutSeconds: 10 },
        }],
      },
    },
  },
};

describe.skipIf(!hasTool('kubectl', 'rolling update e2e'))('a rolling update under request loops through a NodePort and an Ingress', () => {
  let cluster: Cluster;
  let url: string;
  let ingressUrl: string;
  const kubectl = (args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 300_000 }).then((r) => r.stdout);

  beforeAll(async () => {
    cluster = await startCluster({ loopbackNodeIPs: true, ingress: { port: 0 } });
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    expect((await cluster.client.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment)).status).toBe(201);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    const created = await cluster.client.request<Service>('POST', `${NS}/services`, svc);
    url = `http://127.0.0.2:${created.body.spec.ports![0]!.nodePort}/loop`;
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' }, spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } };
    expect((await cluster.client.request('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', ingress)).status).toBe(201);
    ingressUrl = `http://127.0.0.1:${cluster.cp.ingress!.httpPort}/loop`;
    await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Dweb`,
      (e) => (e.object.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 2, 180_000);
    await until(url, (a) => a.status === 200);
    await until(ingressUrl, (a) => a.status === 200);
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers every request while each pod is replaced', async () => {
    const failures: string[] = [];
    const servedBy = new Set<string>();
    let requests = 0;
    let ingressRequests = 0;
    let stop = false;
    const loopOn = (target: string, via: string) => (async () => {
      while (!stop) {
        if (via === 'ingress') ingressRequests++;
        else requests++;
        try {
          const response = await fetch(target, { signal: AbortSignal.timeout(60_000) });
          const body = await response.text();
          if (response.status !== 200 || body !== 'ok GET /loop\n') failures.push(`${via}: ${response.status} ${body.trim()}`);
          servedBy.add(response.headers.get('x-pod-name') ?? '?');
        } catch (error) {
          failures.push(`${via}: ${String((error as Error).cause ?? error)}`);
        }
      }
    })();
    const ingressAtStart = cluster.cp.ingress!.carried.tunnel;
    const loop = Promise.all([loopOn(url, 'nodeport'), loopOn(ingressUrl, 'ingress')]);
    const before = (await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n').map((n) => n.replace('pod/', ''));
    const atRolloutStart = requests;
    const ingressAtRolloutStart = ingressRequests;
    await kubectl(['set', 'env', 'deployment/web', 'VERSION=2']);
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=240s']);
    const duringRollout = requests - atRolloutStart;
    const ingressDuringRollout = ingressRequests - ingressAtRolloutStart;
    // the old pods are gone from the endpoints; a few more requests reach the new ones
    const after = (await kubectl(['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'name'])).trim().split('\n').map((n) => n.replace('pod/', ''));
    await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Dweb`,
      (e) => (e.object.subsets ?? []).flatMap((s) => s.addresses ?? []).every((a) => !before.includes(a.targetRef?.name ?? '')), 120_000);
    const seen = requests;
    while (requests < seen + 10) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await loop;
    expect(failures).toEqual([]);
    // the loop kept requesting while pods were replaced (how many depends on the machine's load)
    expect(duringRollout).toBeGreaterThan(0);
    expect(ingressDuringRollout).toBeGreaterThan(0);
    // the gateway carried them through the agent's tunnel, not port-forward streams
    expect(cluster.cp.ingress!.carried.tunnel - ingressAtStart).toBeGreaterThanOrEqual(ingressRequests - 1);
    expect(before.some((p) => servedBy.has(p))).toBe(true);
    expect(after.filter((p) => !before.includes(p)).some((p) => servedBy.has(p))).toBe(true);
  }, 360_000);
});
