// PodDisruptionBudgets end to end with the real kubectl on 2 agents: status as `kubectl get pdb`
// shows it, the eviction API answering 429 while the budget allows no disruption, `kubectl drain`
// blocked by it, and the drain going through once the budget allows one pod at a time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { pushComponent } from '../../cli/push-command.js';
import type { PodDisruptionBudget } from '../../control-plane/resources/kinds/policy.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';
const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
const isReady = (pod: Pod) => pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe.skipIf(!hasTool('kubectl', 'PodDisruptionBudget e2e'))('PodDisruptionBudgets with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = async (...args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 120_000 });
  const pods = async () => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Dweb`)).body.items.filter((p) => !p.metadata.deletionTimestamp);

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2 });
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/sleep/sleep.wasm', 'examples/app:v1');
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses evictions beyond the budget with 429, blocks kubectl drain, and lets it through one pod at a time', async () => {
    await kubectl('create', 'deployment', 'web', '--image=examples/app:v1', '--replicas=2');
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
    await poll('two ready pods', async () => (await pods()).filter(isReady).length === 2, { timeoutMs: 60_000, intervalMs: 200 });
    expect((await kubectl('create', 'pdb', 'web', '--selector=app=web', '--min-available=2')).stdout).toContain('poddisruptionbudget.policy/web created');
    const status = await waitFor<PodDisruptionBudget>(cluster.client, `${PDBS}?fieldSelector=metadata.name%3Dweb`, (e) => e.object.status?.currentHealthy === 2, 30_000);
    expect(status.status).toMatchObject({ expectedPods: 2, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 });
    expect((await kubectl('get', 'pdb', 'web')).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+2\s+N\/A\s+0\s+/);

    const victim = (await pods())[0]!;
    const refused = await cluster.client.request<{ code: number; reason: string; message: string; details: { causes: Array<{ reason: string; message: string }> } }>(
      'POST', `${NS}/pods/${victim.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim.metadata.name } });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });

    const node = victim.spec.nodeName!;
    const blocked = await kubectl('drain', node, '--timeout=8s').catch((e: { code: number; stderr: string }) => e);
    expect('code' in blocked && blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await pods()).map((p) => p.metadata.name)).toContain(victim.metadata.name);

    await kubectl('patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":1}}');
    await waitFor<PodDisruptionBudget>(cluster.client, `${PDBS}?fieldSelector=metadata.name%3Dweb`, (e) => e.object.status?.disruptionsAllowed === 1 && e.object.status.observedGeneration === 2, 30_000);
    const drained = await kubectl('drain', node, '--timeout=90s');
    expect(drained.stdout).toContain(`node/${node} drained`);
    // the Deployment's replacement runs on the other node, and the budget is whole again
    await poll('replacement ready elsewhere', async () => {
      const ps = await pods();
      return ps.length === 2 && ps.every((p) => isReady(p) && p.spec.nodeName !== node);
    }, { timeoutMs: 60_000, intervalMs: 200 });
    await waitFor<PodDisruptionBudget>(cluster.client, `${PDBS}?fieldSelector=metadata.name%3Dweb`, (e) => e.object.status?.currentHealthy === 2 && e.object.status.disruptionsAllowed === 1, 30_000);
  }, 240_000);
});
