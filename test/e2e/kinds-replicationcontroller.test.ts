// ReplicationController (core/v1) for old manifests, with the real kubectl on a real agent: applied
// from a manifest (selector defaulted from the template labels), pods created and running,
// `kubectl get rc` columns, `kubectl scale rc` up and down, `kubectl describe rc`, and the pods
// deleted with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/types/pod.js';
import { waitFor as poll } from '../mqtt/wait-for.js';
import { hasTool } from '../support/tools.js';
import { startCluster, type Cluster } from './cluster-harness.js';

const NS = '/api/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'ReplicationController e2e'))('ReplicationController with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) => cluster.kubectl(args, input);
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, input);
  const running = async () => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Dold`)).body.items
    .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
  const all = async () => (await cluster.client.request<{ items: Pod[] }>('GET', `${NS}/pods?labelSelector=app%3Dold`)).body.items;

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, examples: ['sleep'] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs, scales, describes and deletes an old-style ReplicationController', async () => {
    const manifest = `apiVersion: v1
kind: ReplicationController
metadata:
  name: old
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: old
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: examples/sleep:latest
`;
    expect(await ok(['apply', '-f', '-'], manifest)).toContain('replicationcontroller/old created');
    const rc = JSON.parse(await ok(['get', 'rc', 'old', '-o', 'json'])) as { spec: { selector: Record<string, string> }; metadata: { labels: Record<string, string> } };
    expect(rc.spec.selector).toEqual({ app: 'old' });
    expect(rc.metadata.labels).toEqual({ app: 'old' });
    await poll('two pods running', async () => (await running()).length === 2, { timeoutMs: 90_000, intervalMs: 250 });
    const owners = (await running()).map((p) => p.metadata.ownerReferences?.[0]);
    expect(owners.every((o) => o?.kind === 'ReplicationController' && o.name === 'old' && o.controller === true)).toBe(true);
    await poll('status ready 2', async () => /\nold\s+2\s+2\s+2\s+/.test(await ok(['get', 'rc'])), { timeoutMs: 60_000, intervalMs: 500 });
    expect(await ok(['get', 'rc'])).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/);

    expect(await ok(['scale', 'rc', 'old', '--replicas=3'])).toContain('replicationcontroller/old scaled');
    await poll('three pods running', async () => (await running()).length === 3, { timeoutMs: 90_000, intervalMs: 250 });
    expect(await ok(['scale', 'rc', 'old', '--replicas=1'])).toContain('replicationcontroller/old scaled');
    await poll('one pod left', async () => (await all()).length === 1, { timeoutMs: 90_000, intervalMs: 250 });
    const described = await ok(['describe', 'rc', 'old']);
    expect(described).toMatch(/Name:\s+old/);
    expect(described).toMatch(/Selector:\s+app=old/);
    expect(described).toMatch(/Replicas:\s+1 current \/ 1 desired/);
    expect(described).toContain('SuccessfulCreate');

    expect(await ok(['delete', 'rc', 'old'])).toContain('replicationcontroller "old" deleted');
    await poll('pods gone with it', async () => (await all()).length === 0, { timeoutMs: 90_000, intervalMs: 250 });
  }, 300_000);
});
