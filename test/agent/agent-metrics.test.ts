import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMetrics, type ObservedPod } from '../../agent/agent-metrics.js';
import { MetricsServerConfigError, startMetricsServer, type MetricsServer } from '../../agent/metrics-server.js';
import type { RpcReply } from '../../agent/agent-channel.js';
import { serveMetrics } from '../../agent/rpc/metrics-rpc.js';
import type { PodStatus } from '../../api/types/pod.js';
import type { ContainerExit, RunningContainer } from '../../runtime/pod-runtime.js';
import { parsePrometheusText } from '../support/prometheus-text.js';

const run = promisify(execFile);

function running(id: string, fuel: bigint | undefined, memoryBytes?: number): RunningContainer {
  const never = new Promise<ContainerExit>(() => {});
  return { id, startedAt: new Date(), exited: never, stop: () => never, fuelConsumed: () => fuel, memoryBytes: () => memoryBytes };
}

function pod(name: string, status: PodStatus, containers: ObservedPod['runningContainers'] = []): ObservedPod {
  return { pod: { metadata: { namespace: 'default', name } }, status: () => status, runningContainers: containers };
}

const cs = (name: string, state: PodStatus['containerStatuses'] extends Array<infer C> | undefined ? C extends { state: infer S } ? S : never : never, restartCount = 0) =>
  ({ name, state, ready: false, restartCount, image: 'x', imageID: '' });

describe('agent metrics', () => {
  it('reports pods by phase, containers by state, restarts, fuel, CPU seconds and memory', async () => {
    const pods = [
      pod('web', { phase: 'Running', containerStatuses: [cs('main', { running: {} }, 2)] }, [{ name: 'main', container: running('c1', 3_000_000_000n, 131_072) }]),
      pod('job', { phase: 'Succeeded', containerStatuses: [cs('main', { terminated: { exitCode: 0, reason: 'Completed' } })] }),
      pod('bad', { phase: 'Pending', containerStatuses: [cs('main', { waiting: { reason: 'ErrImagePull' } })] }),
    ];
    const metrics = new AgentMetrics({ pods: () => pods, fuelPerSecond: () => 1e9 });
    const m = parsePrometheusText(await metrics.metrics());
    expect(m.types.get('skiff_agent_pods')).toBe('gauge');
    expect([m.sum('skiff_agent_pods', { phase: 'Running' }), m.sum('skiff_agent_pods', { phase: 'Succeeded' }), m.sum('skiff_agent_pods', { phase: 'Pending' }), m.sum('skiff_agent_pods', { phase: 'Failed' })])
      .toEqual([1, 1, 1, 0]);
    expect(m.sum('skiff_agent_containers', { state: 'running' })).toBe(1);
    expect(m.sum('skiff_agent_containers', { state: 'terminated', reason: 'Completed' })).toBe(1);
    expect(m.sum('skiff_agent_containers', { state: 'waiting', reason: 'ErrImagePull' })).toBe(1);
    const web = { namespace: 'default', pod: 'web', container: 'main' };
    expect(m.sum('skiff_agent_container_restarts', web)).toBe(2);
    expect(m.types.get('skiff_agent_container_fuel_consumed_total')).toBe('counter');
    expect(m.sum('skiff_agent_container_fuel_consumed_total', web)).toBe(3e9);
    expect(m.sum('skiff_agent_container_cpu_usage_seconds_total', web)).toBe(3);
    expect(m.sum('skiff_agent_container_memory_bytes', web)).toBe(131_072);
    expect(m.find('process_resident_memory_bytes')[0]?.value).toBeGreaterThan(1e6);
    expect(m.types.get('process_cpu_seconds_total')).toBe('counter');
  });

  it('drops the series of pods that are gone', async () => {
    let pods = [pod('web', { phase: 'Running', containerStatuses: [cs('main', { running: {} })] }, [{ name: 'main', container: running('c1', 5n) }])];
    const metrics = new AgentMetrics({ pods: () => pods, fuelPerSecond: () => undefined });
    expect(parsePrometheusText(await metrics.metrics()).find('skiff_agent_container_fuel_consumed_total')).toHaveLength(1);
    pods = [];
    const m = parsePrometheusText(await metrics.metrics());
    expect(m.find('skiff_agent_container_fuel_consumed_total')).toHaveLength(0);
    expect(m.find('skiff_agent_container_restarts')).toHaveLength(0);
    expect(m.sum('skiff_agent_pods')).toBe(0);
  });

  it('counts reconnects (not the first connect), pod starts and image pulls', async () => {
    const metrics = new AgentMetrics({ pods: () => [], fuelPerSecond: () => undefined });
    metrics.connected();
    metrics.disconnected();
    metrics.connected();
    metrics.pods.podStarted(1500);
    metrics.pods.imagePulled('downloaded', 200, 4096);
    metrics.pods.imagePulled('cached', 1, 0);
    const m = parsePrometheusText(await metrics.metrics());
    expect(m.sum('skiff_agent_mqtt_reconnects_total')).toBe(1);
    expect(m.sum('skiff_agent_mqtt_connected')).toBe(1);
    expect(m.types.get('skiff_agent_pod_start_duration_seconds')).toBe('histogram');
    expect(m.find('skiff_agent_pod_start_duration_seconds_bucket', { le: '1' })[0]?.value).toBe(0);
    expect(m.find('skiff_agent_pod_start_duration_seconds_bucket', { le: '2.5' })[0]?.value).toBe(1);
    expect(m.sum('skiff_agent_image_pull_duration_seconds_count', { result: 'downloaded' })).toBe(1);
    expect(m.sum('skiff_agent_image_pull_bytes_total')).toBe(4096);
  });

  it('answers the metrics rpc in chunks an MQTT message can carry', async () => {
    const text = `${'a'.repeat(100_000)}\n`;
    const chunks: unknown[] = [];
    let last: unknown;
    const reply: RpcReply = { data: (c) => chunks.push(c), done: (d) => { last = d; }, error: () => {}, signal: new AbortController().signal, onInput: () => {} };
    await serveMetrics({ metrics: async () => text }, reply);
    expect(chunks.every((c) => typeof c === 'string' && c.length <= 48 * 1024)).toBe(true);
    expect([...chunks, last].join('')).toBe(text);
  });

  it('loads prom-client without its default metrics and OpenTelemetry (an idle agent stays small)', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const { AgentMetrics } = await import(${JSON.stringify(new URL('../../agent/agent-metrics.js', import.meta.url).href)});
      await new AgentMetrics({ pods: () => [], fuelPerSecond: () => undefined }).metrics();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((p) => p.includes('opentelemetry') || p.includes('defaultMetrics'))));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([]);
  });
});

describe('agent metrics listener', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });
  const source = { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'skiff_up 1\n' };

  it('serves GET /metrics on loopback without a token', async () => {
    server = await startMetricsServer(source, { port: 0 });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('version=0.0.4');
    expect(await res.text()).toBe('skiff_up 1\n');
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses to listen beyond loopback without a token, and checks it when given', async () => {
    await expect(startMetricsServer(source, { port: 0, host: '0.0.0.0' })).rejects.toThrow(MetricsServerConfigError);
    server = await startMetricsServer(source, { port: 0, host: '127.0.0.2', token: 's3cret' });
    const url = `http://127.0.0.2:${server.port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-but-longer' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});
