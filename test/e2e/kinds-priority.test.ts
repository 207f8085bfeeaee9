// PriorityClass and preemption with the real kubectl on a real agent: `kubectl create priorityclass`
// (a protobuf body) and `kubectl get pc`, pods admitted with their class's priority, and a
// high-priority pod that does not fit evicting one low-priority pod (DisruptionTarget, a Preempted
// event, nominatedNodeName) and then running, while the low Deployment's replacement waits without
// preempting anything back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';
const Mi = 1024 * 1024;

describe.skipIf(!hasTool('kubectl', 'PriorityClass e2e'))('PriorityClass and preemption with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => cluster.kubectl(args, input);
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, input);
  const lowPods = async () => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Dlow`)).body.items;

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, agentAllocatableMemoryBytes: 128 * Mi, examples: ['sleep'] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates classes with kubectl and refuses to delete a system class', async () => {
    expect(await ok(['create', 'priorityclass', 'high', '--value=1000', '--description=edge critical'])).toContain('priorityclass.scheduling.k8s.io/high created');
    expect(await ok(['create', 'priorityclass', 'low', '--value=10', '--preemption-policy=Never'])).toContain('priorityclass.scheduling.k8s.io/low created');
    const table = await ok(['get', 'pc']);
    expect(table).toMatch(/^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\n/);
    expect(table).toMatch(/\nhigh\s+1000\s+false\s+\S+\s+PreemptLowerPriority\n/);
    expect(table).toMatch(/\nsystem-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority\n/);
    const refused = await kubectl(['delete', 'pc', 'system-cluster-critical']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('this is a system priority class and cannot be deleted');
    const unknown = await kubectl(['run', 'nobody', '--image=examples/sleep:latest', '--overrides={"spec":{"priorityClassName":"missing"}}']);
    expect(unknown.stderr).toContain('pods "nobody" is forbidden: no PriorityClass with name missing was found');
  }, 120_000);

  it('preempts a low-priority pod for a high-priority one that does not fit', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'low' },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'low' } },
        template: {
          metadata: { labels: { app: 'low' } },
          spec: { priorityClassName: 'low', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'examples/sleep:latest', resources: { requests: { memory: '48Mi' }, limits: { memory: '48Mi' } } }] },
        },
      },
    }));
    await poll('two low pods running', async () => (await lowPods()).filter((p) => p.status?.phase === 'Running').length === 2, { timeoutMs: 90_000, intervalMs: 250 });
    const before = await lowPods();
    expect(before.map((p) => [p.spec['priority'], p.spec['preemptionPolicy']])).toEqual([[10, 'Never'], [10, 'Never']]);
    const node = before[0]!.spec.nodeName!;

    // the node is nominated while the victim terminates, and stays in status (the agent's reports keep it)
    const nominated = waitFor<Pod>(cluster.client, `${NS}/pods?fieldSelector=metadata.name%3Durgent`, (e) => Boolean((e.object.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName), 120_000);
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'urgent' },
      spec: { priorityClassName: 'high', containers: [{ name: 'main', image: 'examples/sleep:latest', resources: { requests: { memory: '64Mi' }, limits: { memory: '64Mi' } } }] },
    }));
    const running = await waitFor<Pod>(cluster.client, `${NS}/pods?fieldSelector=metadata.name%3Durgent`, (e) => e.object.status?.phase === 'Running', 120_000);
    expect(running.spec).toMatchObject({ nodeName: node, priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    expect(((await nominated).status as { nominatedNodeName?: string }).nominatedNodeName).toBe(node);
    expect((running.status as { nominatedNodeName?: string }).nominatedNodeName).toBe(node);

    const preempted = await waitFor<Event>(cluster.client, `${NS}/events?fieldSelector=reason%3DPreempted`, () => true, 30_000);
    expect(preempted.message).toBe(`Preempted by pod ${running.metadata.uid} on node ${node}`);
    const victim = preempted.involvedObject.name;
    expect(before.map((p) => p.metadata.name)).toContain(victim);
    // exactly one victim: the other low pod runs on; its replacement waits and preempts nothing (policy Never)
    const survivors = (await lowPods()).filter((p) => p.metadata.name !== victim);
    expect(survivors.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata.name)).toEqual(before.filter((p) => p.metadata.name !== victim).map((p) => p.metadata.name));
    const waiting = await poll('the replacement reported unschedulable', async () => {
      const pending = (await lowPods()).find((p) => !p.spec.nodeName);
      const cond = pending?.status?.conditions?.find((c) => c.type === 'PodScheduled');
      return cond?.reason === 'Unschedulable' ? cond : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(waiting.message).toBe('0/1 nodes are available: 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.');
    const events = (await cluster.client.request<{ items: Event[] }>('GET', `${NS}/events?fieldSelector=reason%3DPreempted`)).body.items;
    expect(events).toHaveLength(1);
    expect(await ok(['get', 'pod', 'urgent', '-o', 'wide'])).toMatch(new RegExp(`\\nurgent\\s+1/1\\s+Running\\s+\\d+\\s+\\S+\\s+\\S+\\s+${node}\\s+${node}\\s`));
  }, 240_000);
});
