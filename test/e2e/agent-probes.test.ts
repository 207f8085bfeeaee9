import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const PODS = `${NS}/pods`;
const byName = (path: string, name: string) => `${path}?fieldSelector=metadata.name%3D${name}`;
const condition = (pod: Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type)?.status;

interface Endpoints { subsets?: Array<{ addresses?: Array<{ ip: string }>; notReadyAddresses?: Array<{ ip: string }> }> }
const ips = (e: Endpoints, key: 'addresses' | 'notReadyAddresses') => (e.subsets ?? []).flatMap((s) => (s[key] ?? []).map((a) => a.ip));

function probedPod(name: string, container: Record<string, unknown>) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } },
    spec: {
      containers: [{ name: 'main', image: 'examples/probed:latest', volumeMounts: [{ name: 'data', mountPath: '/data' }], ...container }],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
}

describe('probes on the agent', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.cp.registry.push('examples/probed:latest', readFileSync('wasm-examples/probed/probed.wasm'));
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('gates the Ready condition and the endpoints on an exec readiness probe', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gated' }, spec: { selector: { app: 'gated' }, ports: [{ port: 80 }] } };
    expect((await cluster.client.request('POST', `${NS}/services`, service)).status).toBe(201);
    const manifest = probedPod('gated', {
      env: [{ name: 'READY_FILE', value: '/data/ready' }, { name: 'READY_AFTER', value: '3' }],
      // a generous timeout: under test a one-shot probe instance starts a TypeScript worker (~0.5 s)
      readinessProbe: { exec: { command: ['probed', 'check', '/data/ready'] }, periodSeconds: 1, timeoutSeconds: 20 },
    });
    expect((await cluster.client.request('POST', PODS, manifest)).status).toBe(201);
    // running, but not ready until the file exists
    const running = await waitFor<Pod>(cluster.client, byName(PODS, 'gated'), (e) =>
      e.object.status?.phase === 'Running' && !!e.object.status.podIP, 30_000);
    expect(condition(running, 'Ready')).toBe('False');
    expect(running.status?.containerStatuses?.[0]?.ready).toBe(false);
    const notReady = await waitFor<Endpoints>(cluster.client, byName(`${NS}/endpoints`, 'gated'), (e) =>
      ips(e.object, 'notReadyAddresses').length > 0 || ips(e.object, 'addresses').length > 0);
    expect(ips(notReady, 'addresses')).toEqual([]);
    expect(ips(notReady, 'notReadyAddresses')).toEqual([running.status!.podIP]);

    const ready = await waitFor<Pod>(cluster.client, byName(PODS, 'gated'), (e) => condition(e.object, 'Ready') === 'True', 30_000);
    expect(ready.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const endpoints = await waitFor<Endpoints>(cluster.client, byName(`${NS}/endpoints`, 'gated'), (e) => ips(e.object, 'addresses').length > 0);
    expect(ips(endpoints, 'addresses')).toEqual([running.status!.podIP]);
    const unhealthy = await waitFor<Event>(cluster.client, `${NS}/events`, (e) => e.object.involvedObject.name === 'gated' && e.object.reason === 'Unhealthy');
    expect(unhealthy.message).toMatch(/^Readiness probe failed: command \["probed","check","\/data\/ready"\] exited with code 1/);
  }, 60_000);

  it('restarts a container whose exec liveness probe keeps failing, with Unhealthy and Killing events', async () => {
    const manifest = probedPod('unhealthy', {
      livenessProbe: { exec: { command: ['probed', 'check', '/data/never'] }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 20 },
    });
    expect((await cluster.client.request('POST', PODS, manifest)).status).toBe(201);
    const restarted = await waitFor<Pod>(cluster.client, byName(PODS, 'unhealthy'), (e) =>
      (e.object.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 30_000);
    expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated).toBeDefined();
    const killing = await waitFor<Event>(cluster.client, `${NS}/events`, (e) => e.object.involvedObject.name === 'unhealthy' && e.object.reason === 'Killing');
    expect(killing.message).toBe('Container main failed liveness probe, will be restarted');
    const unhealthy = await waitFor<Event>(cluster.client, `${NS}/events`, (e) => e.object.involvedObject.name === 'unhealthy' && e.object.reason === 'Unhealthy');
    expect(unhealthy).toMatchObject({ type: 'Warning', message: expect.stringMatching(/^Liveness probe failed: .*probed: \/data\/never is missing/) });
  }, 60_000);
});
