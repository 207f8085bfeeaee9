// Prometheus end to end: Debian's Prometheus scrapes the control plane's /metrics and an agent's
// metrics through the API server (GET /api/v1/nodes/NAME/proxy/metrics, answered over MQTT) with
// the cluster CA and the metrics token, or a ServiceAccount's token bound to skiff:metrics-scraper
// through RBAC; kubectl reads both with `get --raw`; the monitoring identity and the ServiceAccount
// read nothing else.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { pushComponent } from '../../cli/push-command.js';
import { clientFor, type ClusterClient } from '../control-plane/support/https-client.js';
import { waitFor as waitUntil } from '../mqtt/wait-for.js';
import { parsePrometheusText, type Exposition } from '../support/prometheus-text.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';
import { startPrometheus, type PrometheusServer } from './prometheus-server.js';

const run = promisify(execFile);
const PODS = '/api/v1/namespaces/default/pods';
const NODE_METRICS = '/api/v1/nodes/node-1/proxy/metrics';

describe('Prometheus metrics of the control plane and agents', () => {
  let cluster: Cluster;
  let monitoring: ClusterClient;
  let saToken: string;
  let scraper: ClusterClient;
  const scrape = async (path: string): Promise<Exposition> => {
    const res = await monitoring.call('GET', path);
    expect(res.status, String(res.body)).toBe(200);
    return parsePrometheusText(res.body as string);
  };

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1 });
    monitoring = clientFor(cluster.cp.apiUrl, cluster.cp.caCert, cluster.cp.metricsToken);
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/cpuhog/cpuhog.wasm', 'examples/cpuhog:latest');
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hog', namespace: 'default' },
      // a cpu request meters it: fuel, CPU seconds and memory are reported
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'examples/cpuhog:latest', resources: { requests: { cpu: '100m' } } }] },
    };
    expect((await cluster.client.request('POST', PODS, pod)).status).toBe(201);
    await waitFor<Pod>(cluster.client, `${PODS}?fieldSelector=metadata.name%3Dhog`, (e) => e.object.status?.phase === 'Running', 60_000);
    // a Prometheus ServiceAccount, as a user sets one up: its token, and (later) its binding
    expect((await cluster.client.request('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prometheus' } })).status).toBe(201);
    const issued = await cluster.client.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/default/serviceaccounts/prometheus/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 7200 } });
    expect(issued.status).toBe(201);
    saToken = issued.body.status.token;
    scraper = clientFor(cluster.cp.apiUrl, cluster.cp.caCert, saToken);
  }, 90_000);
  afterAll(async () => {
    scraper?.close();
    monitoring?.close();
    await cluster?.stop();
  });

  it('serves the control plane\'s metrics with the names and types the docs list', async () => {
    const m = await scrape('/metrics');
    const expected: Record<string, string> = {
      apiserver_request_total: 'counter', apiserver_request_duration_seconds: 'histogram', apiserver_longrunning_requests: 'gauge',
      apiserver_watch_events_total: 'counter', skiff_store_request_duration_seconds: 'histogram', workqueue_depth: 'gauge',
      workqueue_adds_total: 'counter', workqueue_work_duration_seconds: 'histogram', scheduler_schedule_attempts_total: 'counter',
      scheduler_scheduling_attempt_duration_seconds: 'histogram', skiff_mqtt_messages_received_total: 'counter',
      skiff_mqtt_received_bytes_total: 'counter', skiff_mqtt_messages_sent_total: 'counter', skiff_nodes: 'gauge',
      process_resident_memory_bytes: 'gauge', skiff_build_info: 'gauge',
      apiserver_flowcontrol_dispatched_requests_total: 'counter', apiserver_flowcontrol_current_inqueue_requests: 'gauge',
      apiserver_flowcontrol_request_wait_duration_seconds: 'histogram', apiserver_flowcontrol_nominal_limit_seats: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(m.types.get(name), name).toBe(type);
    expect(m.sum('apiserver_request_total', { resource: 'pods', verb: 'POST', code: '201' })).toBeGreaterThanOrEqual(1);
    expect(m.sum('scheduler_schedule_attempts_total', { result: 'scheduled' })).toBeGreaterThanOrEqual(1);
    expect(m.sum('skiff_nodes', { condition: 'Ready', status: 'True' })).toBe(1);
    expect(m.sum('skiff_mqtt_messages_received_total', { kind: 'podStatus' })).toBeGreaterThan(0);
    expect(m.sum('skiff_mqtt_sent_bytes_total', { kind: 'desired' })).toBeGreaterThan(0);
    expect(m.sum('workqueue_adds_total', { name: 'scheduler' })).toBeGreaterThan(0);
    expect(m.sum('skiff_store_request_duration_seconds_count', { backend: 'sqlite', operation: 'create', result: 'ok' })).toBeGreaterThan(0);
    expect(m.sum('apiserver_flowcontrol_nominal_limit_seats', { priority_level: 'workload' })).toBe(16);
    expect(m.sum('apiserver_flowcontrol_dispatched_requests_total', { priority_level: 'exempt' })).toBeGreaterThan(0); // the admin's requests
  });

  it('serves an agent\'s metrics through the API server, over MQTT', async () => {
    const m = await waitUntil('the hog\'s fuel in the agent\'s metrics', async () => {
      const e = await scrape(NODE_METRICS);
      return e.sum('skiff_agent_container_fuel_consumed_total', { pod: 'hog' }) > 0 ? e : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    const expected: Record<string, string> = {
      skiff_agent_pods: 'gauge', skiff_agent_containers: 'gauge', skiff_agent_container_restarts: 'gauge',
      skiff_agent_container_fuel_consumed_total: 'counter', skiff_agent_container_cpu_usage_seconds_total: 'counter',
      skiff_agent_container_memory_bytes: 'gauge', skiff_agent_pod_start_duration_seconds: 'histogram',
      skiff_agent_image_pull_duration_seconds: 'histogram', skiff_agent_mqtt_reconnects_total: 'counter',
      process_resident_memory_bytes: 'gauge', process_cpu_seconds_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) expect(m.types.get(name), name).toBe(type);
    expect(m.sum('skiff_agent_pods', { phase: 'Running' })).toBe(1);
    expect(m.sum('skiff_agent_containers', { state: 'running' })).toBe(1);
    expect(m.sum('skiff_agent_container_memory_bytes', { namespace: 'default', pod: 'hog', container: 'main' })).toBeGreaterThan(0);
    expect(m.sum('skiff_agent_pod_start_duration_seconds_count')).toBe(1);
    expect(m.sum('skiff_agent_image_pull_duration_seconds_count', { result: 'downloaded' })).toBe(1);
    expect(m.find('skiff_build_info', { component: 'agent' })).toHaveLength(1);
  });

  it('answers 404 for an unknown node, and keeps the monitoring token to metrics', async () => {
    expect((await monitoring.call('GET', '/api/v1/nodes/nope/proxy/metrics')).status).toBe(404);
    expect((await monitoring.call('GET', PODS)).status).toBe(403);
    expect((await monitoring.call('GET', '/registry/v1/tags')).status).toBe(403);
    const asNode = clientFor(cluster.cp.apiUrl, cluster.cp.caCert, cluster.cp.nodeToken);
    expect((await asNode.call('GET', '/metrics')).status).toBe(403);
    expect((await asNode.call('GET', NODE_METRICS)).status).toBe(403);
    asNode.close();
  });

  it('lets a ServiceAccount scrape once RBAC binds it to skiff:metrics-scraper, and nothing more', async () => {
    expect((await scraper.call('GET', '/metrics')).status).toBe(403);
    expect((await cluster.client.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'prometheus' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'skiff:metrics-scraper' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'default' }],
    })).status).toBe(201);
    await waitUntil('the binding in the authorizer', async () => (await scraper.call('GET', '/metrics')).status === 200, { timeoutMs: 20_000, intervalMs: 100 });
    const node = await scraper.call('GET', NODE_METRICS);
    expect(node.status).toBe(200);
    expect(parsePrometheusText(node.body as string).types.get('skiff_agent_pods')).toBe('gauge');
    expect((await scraper.call('GET', '/api/v1/nodes')).status).toBe(200); // discovery of the agents
    for (const path of [PODS, '/api/v1/secrets', '/api/v1/namespaces/default/serviceaccounts', '/registry/v1/tags']) {
      expect((await scraper.call('GET', path)).status, path).toBe(403);
    }
    expect((await scraper.call('DELETE', '/api/v1/nodes/node-1')).status).toBe(403);
  });

  it.skipIf(!hasTool('kubectl', 'kubectl get --raw /metrics'))('reads both with kubectl get --raw', async () => {
    const kubectl = async (...args: string[]) => (await run(TOOL_PATHS.kubectl, args, {
      env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 30_000,
    })).stdout;
    expect(parsePrometheusText(await kubectl('get', '--raw', '/metrics')).types.get('apiserver_request_total')).toBe('counter');
    expect(parsePrometheusText(await kubectl('get', '--raw', NODE_METRICS)).types.get('skiff_agent_pods')).toBe('gauge');
  });

  describe.skipIf(!hasTool('prometheus', 'Prometheus scraping e2e'))('scraped by Debian\'s Prometheus', () => {
    let prometheus: PrometheusServer;
    beforeAll(async () => {
      const target = new URL(cluster.cp.apiUrl).host;
      const job = { target, caCert: cluster.cp.caCert, token: cluster.cp.metricsToken };
      prometheus = await startPrometheus([
        { name: 'skiff-control-plane', metricsPath: '/metrics', ...job },
        { name: 'skiff-agents', metricsPath: NODE_METRICS, ...job },
        // the ServiceAccount's token (bound to skiff:metrics-scraper by the test above)
        { name: 'sa-control-plane', metricsPath: '/metrics', ...job, token: saToken },
        { name: 'sa-agents', metricsPath: NODE_METRICS, ...job, token: saToken },
      ]);
    }, 60_000);
    afterAll(async () => {
      await prometheus?.stop();
    });

    it('finds both targets up, over TLS with the bearer token, and queries their series', async () => {
      const targets = await waitUntil('every target up', async () => {
        const t = await prometheus.targets();
        return t.length === 4 && t.every((x) => x.health === 'up') ? t : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect(targets.map((t) => t.scrapePool).sort()).toEqual(['sa-agents', 'sa-control-plane', 'skiff-agents', 'skiff-control-plane']);
      const pods = await waitUntil('skiff_agent_pods in Prometheus', async () => {
        const r = await prometheus.query('skiff_agent_pods{phase="Running"}');
        return r.length ? r : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      expect(pods[0]?.value[1]).toBe('1');
      const requests = await prometheus.query('sum(apiserver_request_total{resource="pods"})');
      expect(Number(requests[0]?.value[1])).toBeGreaterThan(0);
    });
  });
});
