// ServiceAccount admission with the real kubectl and the real controllers: a pod naming a
// ServiceAccount that does not exist is refused in the real server's words; a ReplicaSet whose
// template names one records FailedCreate (naming the pod by its generateName prefix, as the real
// server does: it generates names after admission) and creates its pods once the ServiceAccount exists.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'ServiceAccount admission e2e'))('ServiceAccount admission', () => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });

  beforeAll(async () => {
    cluster = await startCluster({ agents: 0 });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses a pod naming a missing ServiceAccount; a ReplicaSet retries until it exists', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  serviceAccountName: sa
  containers: [{name: main, image: registry.local/web:1}]
`;
    const refused = await kubectl(['apply', '-f', '-'], pod);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('pods "x" is forbidden: error looking up service account default/sa: serviceaccount "sa" not found');

    const rs = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: robots}
spec:
  replicas: 2
  selector: {matchLabels: {app: robots}}
  template:
    metadata: {labels: {app: robots}}
    spec:
      serviceAccountName: robot
      containers: [{name: main, image: registry.local/web:1}]
`;
    const applied = await kubectl(['apply', '-f', '-'], rs);
    expect(applied.code, applied.stderr).toBe(0);
    const events = async () => (await cluster.client.request<{ items: Array<{ reason: string; message: string; involvedObject: { name: string } }> }>('GET', `${NS}/events`)).body.items;
    await poll('a FailedCreate event', async () => (await events()).some((e) => e.reason === 'FailedCreate' && e.involvedObject.name === 'robots'), { timeoutMs: 30_000, intervalMs: 100 });
    const failed = (await events()).find((e) => e.reason === 'FailedCreate')!;
    expect(failed.message).toMatch(/^Error creating: pods "robots-" is forbidden: error looking up service account default\/robot: serviceaccount "robot" not found$/);
    const pods = async () => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Drobots`)).body.items;
    expect(await pods()).toEqual([]);

    expect((await kubectl(['create', 'serviceaccount', 'robot'])).code).toBe(0);
    await poll('two pods', async () => (await pods()).length === 2, { timeoutMs: 60_000, intervalMs: 100 });
    expect((await pods()).every((p) => p.spec.serviceAccountName === 'robot')).toBe(true);
    expect((await kubectl(['apply', '-f', '-'], pod.replace('serviceAccountName: sa', 'serviceAccountName: robot'))).code).toBe(0);
  }, 120_000);

  it('runs a pod in a namespace created the moment before, as the controller creates `default` at once', async () => {
    const created = await kubectl(['create', 'namespace', 'fresh']);
    expect(created.code, created.stderr).toBe(0);
    const run = await kubectl(['run', 'p', '-n', 'fresh', '--image=registry.local/web:1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('pod/p created');
    const pod = (await cluster.client.request<Pod>('GET', '/api/v1/namespaces/fresh/pods/p')).body;
    expect(pod.spec.serviceAccountName).toBe('default');
  }, 60_000);
});
