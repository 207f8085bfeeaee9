// CPU metrics end to end: an agent meters a cpuhog pod that requests cpu, reports its usage over
// MQTT, `kubectl top` shows it through metrics.k8s.io, and an HPA scales the Deployment out on it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushComponent } from '../../cli/push-command.js';
import type { Deployment } from '../../control-plane/controllers/workload-kinds.js';
import type { HorizontalPodAutoscaler } from '../../control-plane/resources/kinds/autoscaling.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { waitFor as waitForCondition } from '../mqtt/wait-for.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const APPS = '/apis/apps/v1/namespaces/default';
const HPAS = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers';

/** `kubectl top` CPU column ("987m" or "1" cores) in millicores. */
const millicores = (text: string) => (text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000);

describe.skipIf(!hasTool('kubectl', 'metrics e2e'))('CPU metrics from fuel, kubectl top and the HPA', () => {
  let cluster: Cluster;
  const kubectl = async (...args: string[]) => {
    const { stdout } = await run(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 });
    return stdout;
  };
  /** The CPU `kubectl top` prints for the first row whose name starts with `prefix`, once it is above zero. */
  const topCpu = (kind: 'pods' | 'nodes', prefix: string) => waitForCondition(`kubectl top ${kind} ${prefix}`, async () => {
    const out = await kubectl('top', kind, '--no-headers').catch(() => ''); // no metrics yet: kubectl fails
    const row = out.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[0]?.startsWith(prefix));
    const cpu = row?.[1] ? millicores(row[1]) : 0;
    return cpu > 0 ? cpu : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });

  beforeAll(async () => {
    // reports every second instead of 15 s, so the test waits for seconds, not minutes
    cluster = await startCluster({ agents: 1, agentMetricsIntervalMs: 1000 });
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/cpuhog/cpuhog.wasm', 'examples/cpuhog:latest');
    const deployment: Deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hog', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'hog' } },
        template: {
          metadata: { labels: { app: 'hog' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            // a request and no limit: metered, never throttled; it burns a whole core, 10x its request
            containers: [{ name: 'main', image: 'examples/cpuhog:latest', resources: { requests: { cpu: '100m' } } }],
          },
        },
      },
    };
    expect((await cluster.client.request('POST', `${APPS}/deployments`, deployment)).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('shows the pod\'s CPU, measured from the fuel it burnt, in kubectl top pods and nodes', async () => {
    expect(await topCpu('pods', 'hog-')).toBeGreaterThan(0);
    expect(await topCpu('nodes', 'node-1')).toBeGreaterThan(0);
    const metrics = await cluster.client.request<{ items: Array<{ metadata: { name: string }; containers: Array<{ name: string; usage: { cpu: string } }> }> }>(
      'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dhog');
    expect(metrics.body.items[0]?.containers.map((c) => c.name)).toEqual(['main']);
    expect(metrics.body.items[0]?.containers[0]?.usage.cpu).toMatch(/^[1-9]\d*n$/);
  }, 90_000);

  it('scales the Deployment out with an HPA on the CPU the agent reported', async () => {
    await topCpu('pods', 'hog-'); // a report is in
    const hpa: HorizontalPodAutoscaler = {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'hog', namespace: 'default' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hog' },
        minReplicas: 1, maxReplicas: 2,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      },
    };
    expect((await cluster.client.request('POST', HPAS, hpa)).status).toBe(201);
    const scaled = await waitFor<HorizontalPodAutoscaler>(cluster.client, `${HPAS}?fieldSelector=metadata.name%3Dhog`,
      (e) => e.object.status?.desiredReplicas === 2, 60_000);
    const utilization = scaled.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
    expect(utilization).toBeGreaterThan(50);
    expect((await kubectl('get', 'deployment/hog', '-o', 'jsonpath={.spec.replicas}')).trim()).toBe('2');
  }, 90_000);
});
