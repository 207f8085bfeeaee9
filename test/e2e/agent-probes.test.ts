import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
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
      volumes: [{ name: 'data', emptyDir: {} }] as Array<Record<string, unknown>>,
    },
  };
}

let cluster: Cluster;
let hostDir: string;
beforeAll(async () => {
  hostDir = await mkdtemp(join(tmpdir(), 'skiff-probes-'));
  cluster = await startCluster({ allowedHostPaths: [hostDir] });
  await cluster.cp.registry.push('examples/probed:latest', readFileSync('wasm-examples/probed/probed.wasm'));
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
});

const event = (pod: string, reason: string, message?: RegExp | string) => waitFor<Event>(cluster.client, `${NS}/events`, (e) =>
  e.object.involvedObject.name === pod && e.object.reason === reason &&
  (message === undefined || (typeof message === 'string' ? e.object.message === message : message.test(e.object.message ?? ''))), 30_000);
const logs = async (pod: string, container?: string) =>
  (await cluster.client.request<string>('GET', `${PODS}/${pod}/log${container ? `?container=${container}` : ''}`)).text;
const create = async (manifest: unknown) => expect((await cluster.client.request('POST', PODS, manifest)).status).toBe(201);
const containerStatus = (pod: Pod, name: string) => pod.status?.containerStatuses?.find((c) => c.name === name);

describe('exec probes on the agent', () => {

  it('gates the Ready condition and the endpoints on an exec readiness probe', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gated' }, spec: { selector: { app: 'gated' }, ports: [{ port: 80 }] } };
    expect((await cluster.client.request('POST', `${NS}/services`, service)).status).toBe(201);
    // the ready file appears when the test writes it (a hostPath volume), not after some time:
    // a loaded machine may run the first probe late, but never before the file exists
    const manifest = probedPod('gated', {
      // a generous timeout: under test a one-shot probe instance starts a TypeScript worker (~0.5 s)
      readinessProbe: { exec: { command: ['probed', 'check', '/data/ready'] }, periodSeconds: 1, timeoutSeconds: 20 },
    });
    manifest.spec.volumes = [{ name: 'data', hostPath: { path: hostDir, type: 'Directory' } }];
    expect((await cluster.client.request('POST', PODS, manifest)).status).toBe(201);
    // running, but not ready while the file is missing: the probe fails, endpoints list it not ready
    const unhealthy = await event('gated', 'Unhealthy');
    expect(unhealthy.message).toMatch(/^Readiness probe failed: command \["probed","check","\/data\/ready"\] exited with code 1/);
    const running = (await cluster.client.request<Pod>('GET', `${PODS}/gated`)).body;
    expect(running.status?.phase).toBe('Running');
    expect(condition(running, 'Ready')).toBe('False');
    expect(running.status?.containerStatuses?.[0]?.ready).toBe(false);
    const notReady = await waitFor<Endpoints>(cluster.client, byName(`${NS}/endpoints`, 'gated'), (e) =>
      ips(e.object, 'notReadyAddresses').length > 0 || ips(e.object, 'addresses').length > 0);
    expect(ips(notReady, 'addresses')).toEqual([]);
    expect(ips(notReady, 'notReadyAddresses')).toEqual([running.status!.podIP]);

    writeFileSync(join(hostDir, 'ready'), 'ready\n');
    const ready = await waitFor<Pod>(cluster.client, byName(PODS, 'gated'), (e) => condition(e.object, 'Ready') === 'True', 30_000);
    expect(ready.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    const endpoints = await waitFor<Endpoints>(cluster.client, byName(`${NS}/endpoints`, 'gated'), (e) => ips(e.object, 'addresses').length > 0);
    expect(ips(endpoints, 'addresses')).toEqual([running.status!.podIP]);
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

describe('httpGet and tcpSocket probes on the agent (pod network)', () => {
  beforeAll(async () => {
    for (const name of ['http-health', 'tcp-listen']) {
      await cluster.cp.registry.push(`examples/${name}:latest`, readFileSync(`wasm-examples/${name}/${name}.wasm`));
    }
  }, 60_000);

  // generous timeouts: each request runs the handler in a fresh instance (a worker under test)
  const httpGet = (path: string, extra: Record<string, unknown> = {}) => ({ httpGet: { path, port: 8080 }, periodSeconds: 1, timeoutSeconds: 20, ...extra });
  const web = (extra: Record<string, unknown>) => ({ name: 'main', image: 'examples/http-health:latest', ...extra });

  it('makes an HTTP-handler pod Ready through an httpGet readiness probe, the handler logging each probe request', async () => {
    await create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-ready' }, spec: { containers: [web({ readinessProbe: httpGet('/healthz') })] } });
    const ready = await waitFor<Pod>(cluster.client, byName(PODS, 'web-ready'), (e) => condition(e.object, 'Ready') === 'True', 30_000);
    expect(containerStatus(ready, 'main')).toMatchObject({ ready: true, started: true, restartCount: 0 });
    expect(ready.status?.podIP).toMatch(/^10\./);
    const logged = await poll('the probe requests in the logs', async () => /^GET \/healthz 200$/m.test(await logs('web-ready')), { timeoutMs: 20_000, intervalMs: 200 });
    expect(logged).toBe(true);
  }, 60_000);

  it('restarts a handler container whose httpGet liveness probe gets a 500', async () => {
    await create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-500' }, spec: { containers: [web({ livenessProbe: httpGet('/status/500', { failureThreshold: 2 }) })] } });
    const restarted = await waitFor<Pod>(cluster.client, byName(PODS, 'web-500'), (e) => (containerStatus(e.object, 'main')?.restartCount ?? 0) >= 1, 45_000);
    expect(containerStatus(restarted, 'main')?.lastState?.terminated).toBeDefined();
    const unhealthy = await event('web-500', 'Unhealthy');
    expect(unhealthy).toMatchObject({ type: 'Warning', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500' });
    expect((await event('web-500', 'Killing')).message).toBe('Container main failed liveness probe, will be restarted');
  }, 60_000);

  it.skipIf(!hasTool('kubectl', 'probes e2e (exec into a second container)'))(
    'restarts the handler when another container of the pod, exec\'d into, writes the file that makes it unhealthy', async () => {
      await create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shared' },
        spec: {
          restartPolicy: 'OnFailure',
          volumes: [{ name: 'data', emptyDir: {} }],
          containers: [
            web({
              name: 'web', env: [{ name: 'UNHEALTHY_FILE', value: '/data/unhealthy' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }], livenessProbe: httpGet('/healthz', { failureThreshold: 1 }),
            }),
            // `probed exit 0` completes at once; `kubectl exec ... -- probed` then creates $READY_FILE (and sleeps)
            {
              name: 'writer', image: 'examples/probed:latest', command: ['probed', 'exit', '0'],
              env: [{ name: 'READY_FILE', value: '/data/unhealthy' }, { name: 'READY_AFTER', value: '0' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      });
      await waitFor<Pod>(cluster.client, byName(PODS, 'shared'), (e) =>
        containerStatus(e.object, 'web')?.ready === true && containerStatus(e.object, 'writer')?.state?.terminated?.exitCode === 0, 30_000);
      await poll('a healthy probe request', async () => /^GET \/healthz 200$/m.test(await logs('shared', 'web')), { timeoutMs: 20_000, intervalMs: 200 });
      const exec = spawn(TOOL_PATHS.kubectl, ['exec', 'shared', '-c', 'writer', '--', 'probed'], { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath } });
      let output = '';
      exec.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      try {
        await poll('the exec\'d writer to create the file', () => output.includes('probed: created /data/unhealthy'), { timeoutMs: 30_000, intervalMs: 100 });
      } finally {
        exec.kill();
      }
      const restarted = await waitFor<Pod>(cluster.client, byName(PODS, 'shared'), (e) => (containerStatus(e.object, 'web')?.restartCount ?? 0) >= 1, 30_000);
      expect(containerStatus(restarted, 'web')?.lastState?.terminated).toBeDefined();
      expect((await event('shared', 'Unhealthy')).message).toBe('Liveness probe failed: HTTP probe failed with statuscode: 503');
      expect((await event('shared', 'Killing', /failed liveness probe/)).message).toBe('Container web failed liveness probe, will be restarted');
    }, 90_000);

  it('makes a TCP-listening pod Ready through a tcpSocket probe, and keeps one probed on a closed port not Ready', async () => {
    const listener = (name: string, probePort: number) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { containers: [{ name: 'main', image: 'examples/tcp-listen:latest', env: [{ name: 'PORT', value: '7000' }], readinessProbe: { tcpSocket: { port: probePort }, periodSeconds: 1 } }] },
    });
    await create(listener('tcp-ready', 7000));
    await create(listener('tcp-closed', 7001));
    const ready = await waitFor<Pod>(cluster.client, byName(PODS, 'tcp-ready'), (e) => condition(e.object, 'Ready') === 'True', 30_000);
    expect(containerStatus(ready, 'main')?.ready).toBe(true);
    // the guest prints after it listens: the line may reach the log just after the probe succeeded
    await poll('the listening line in the log', async () => (await logs('tcp-ready')).includes('listening on 7000'), { timeoutMs: 10_000, intervalMs: 50 });
    const closed = await waitFor<Pod>(cluster.client, byName(PODS, 'tcp-closed'), (e) => e.object.status?.phase === 'Running' && !!e.object.status.podIP, 30_000);
    const unhealthy = await event('tcp-closed', 'Unhealthy');
    expect(unhealthy.message).toBe(`Readiness probe failed: dial tcp ${closed.status!.podIP}:7001: connect: connection refused`);
    await poll('tcp-closed to be listening (on another port than probed)', async () => /listening on 7000/.test(await logs('tcp-closed')), { timeoutMs: 20_000, intervalMs: 200 });
    const now = (await cluster.client.request<Pod>('GET', `${PODS}/tcp-closed`)).body;
    expect(condition(now, 'Ready')).toBe('False');
    expect(containerStatus(now, 'main')).toMatchObject({ ready: false, restartCount: 0 });
  }, 60_000);
});
