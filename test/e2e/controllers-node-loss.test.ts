// Node loss end to end: a `skiff agent` process killed with SIGKILL (no goodbye: the broker publishes
// its MQTT Will) is marked unreachable and tainted, its Deployment pods are evicted after their
// tolerationSeconds, and their replacements run on the surviving nodes.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { pushComponent } from '../../cli/push-command.js';
import type { Deployment } from '../../control-plane/controllers/workload-kinds.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// only the cluster commands, run from source, so the test needs no build
const ENTRY = `
  import { Command } from 'commander';
  import { registerClusterCommands } from './cli/cluster-commands.ts';
  const program = new Command('skiff');
  registerClusterCommands(program);
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;
const PODS = '/api/v1/namespaces/default/pods';

const isReady = (pod: Pod) => pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const nodeReady = (node: Node) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status;

async function waitForPods(cluster: Cluster, predicate: (pods: Pod[]) => boolean, timeoutMs = 30_000): Promise<Pod[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Pod[] = [];
  while (Date.now() < deadline) {
    last = (await cluster.client.request<{ items: Pod[] }>('GET', `${PODS}?labelSelector=app%3Dedge`)).body.items;
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 100)); // polling interval, not an assertion on time
  }
  throw new Error(`pods did not converge: ${JSON.stringify(last.map((p) => [p.metadata.name, p.spec.nodeName, p.status?.phase, !!p.metadata.deletionTimestamp]))}`);
}

describe('losing an agent abruptly', () => {
  let cluster: Cluster;
  let agent: ChildProcess | undefined;
  let agentOutput = '';

  beforeAll(async () => {
    // The Will marks the killed node unreachable at once; the grace period (for agents that go
    // silent without a Will) stays above the agents' 10 s lease interval, or live nodes would flap.
    cluster = await startCluster({ agents: 2, nodeMonitorGracePeriodMs: 15_000, nodeMonitorCheckIntervalMs: 1_000 });
    const token = cluster.cp.nodeToken;
    agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY,
      'agent', '--server', cluster.cp.mqttUrl, '--ca-file', join(cluster.dataDir, 'ca.crt'), '--token', token, '--name', 'node-3', '--data-dir', join(cluster.dataDir, 'agents', 'node-3'),
      '--warm-workers', '1', '--log-level', 'warn'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (c: Buffer) => (agentOutput += c.toString()));
    agent.stderr!.on('data', (c: Buffer) => (agentOutput += c.toString()));
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/sleep/sleep.wasm', 'examples/app:v1');
    await waitFor<Node>(cluster.client, '/api/v1/nodes', (e) => e.object.metadata.name === 'node-3' && nodeReady(e.object) === 'True', 30_000)
      .catch((error: Error) => { throw new Error(`${error.message}\nagent output:\n${agentOutput}`); });
  }, 90_000);
  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGKILL');
      await exited;
    }
    await cluster?.stop();
  });

  it('reschedules the Deployment pods of a SIGKILLed agent onto the other nodes', async () => {
    const toleration = (key: string) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 });
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'edge', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'edge' } },
        template: {
          metadata: { labels: { app: 'edge' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            tolerations: [toleration('node.kubernetes.io/unreachable'), toleration('node.kubernetes.io/not-ready')],
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'edge' } } }],
            containers: [{ name: 'main', image: 'examples/app:v1' }],
          },
        },
      },
    } as Deployment;
    expect((await cluster.client.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment)).status).toBe(201);
    // the first pull transpiles the component on every node at once (one jco child process per agent):
    // 4-5 s alone, 17-20 s for three at once on the loaded 2-core test machine
    const before = await waitForPods(cluster, (ps) => ps.length === 3 && ps.every(isReady), 90_000);
    if (!before.some((p) => p.spec.nodeName === 'node-3')) {
      const nodes = (await cluster.client.request<{ items: Node[] }>('GET', '/api/v1/nodes')).body.items;
      throw new Error(`no pod on node-3: ${JSON.stringify(nodes.map((n) => [n.metadata.name, nodeReady(n), n.spec.taints]))}`);
    }

    const exited = new Promise((r) => agent!.once('exit', (_code, signal) => r(signal)));
    agent!.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const lost = await waitFor<Node>(cluster.client, '/api/v1/nodes', (e) => e.object.metadata.name === 'node-3'
      && nodeReady(e.object) === 'Unknown' && !!e.object.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
    expect(lost.spec.taints?.map((t) => t.effect).sort()).toEqual(['NoExecute', 'NoSchedule']);

    // the evicted pods stay Terminating (no agent to confirm), their replacements run elsewhere
    const after = await waitForPods(cluster, (ps) => {
      const live = ps.filter((p) => !p.metadata.deletionTimestamp);
      return live.length === 3 && live.every((p) => isReady(p) && p.spec.nodeName !== 'node-3');
    }, 45_000);
    const evicted = after.filter((p) => p.metadata.deletionTimestamp);
    expect(evicted.length).toBeGreaterThanOrEqual(1);
    expect(evicted.every((p) => p.spec.nodeName === 'node-3')).toBe(true);
  }, 180_000);
});
