// `kubectl describe` on an object of every kind skiff serves, against a real cluster (control plane,
// controllers, one agent running a real component): kubectl must exit 0 and print the object. A
// Service made by `kubectl expose` has an unnamed port, which made kubectl panic on the EndpointSlice.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResourceTypes } from '../../control-plane/resources/resource-types.js';
import { appManifest } from '../control-plane/support/sample-manifests.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);

/** One object of each kind the sample app manifest and the bootstrap objects lack, none of which starts a pod or limits one. */
const policyAndScheduleKinds = [
  { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'roomy', namespace: 'default' }, spec: { hard: { pods: '100', 'count/configmaps': '100' } } },
  { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'claims', namespace: 'default' }, spec: { limits: [{ type: 'PersistentVolumeClaim', max: { storage: '10Gi' } }] } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
    spec: { replicas: 0, serviceName: 'db', selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'main', image: 'examples/http-health:latest' }] } } } },
  { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy', namespace: 'default' },
    spec: { replicas: 0, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'main', image: 'examples/http-health:latest' }] } } } },
  { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'default' },
    spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'examples/http-health:latest' }] } } } } } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader', namespace: 'default' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'pod-reader', namespace: 'default' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }] },
];

interface Slice { endpoints?: Array<{ conditions?: { ready?: boolean } }>; ports?: Array<{ name?: string; port?: number }> }

describe.skipIf(!hasTool('kubectl', 'kubectl describe e2e'))('kubectl describe of every kind', () => {
  let cluster: Cluster;
  const kubectl = async (args: string[], input?: string) => {
    const child = run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 });
    if (input !== undefined) child.child.stdin!.end(input);
    return child;
  };

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1 });
    await cluster.cp.registry.push('examples/http-health:latest', readFileSync('wasm-examples/http-health/http-health.wasm'));
    await kubectl(['apply', '-f', '-'], appManifest());
    for (const o of policyAndScheduleKinds) await kubectl(['apply', '-f', '-'], JSON.stringify(o));
    await kubectl(['create', 'deployment', 'hello', '--image=examples/http-health:latest', '--port=8080']);
    await kubectl(['expose', 'deployment', 'hello', '--port=80', '--target-port=8080']); // an unnamed port
    await waitFor<Slice>(cluster.client, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dhello',
      (e) => (e.object.endpoints ?? []).some((ep) => ep.conditions?.ready) && (e.object.ports ?? []).length > 0, 60_000);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('describes the exposed Service and its EndpointSlice (unnamed port) without a panic', async () => {
    const svc = await kubectl(['describe', 'svc', 'hello']);
    expect(svc.stderr).not.toMatch(/panic/);
    expect(svc.stdout).toMatch(/^Name:\s+hello$/m);
    expect(svc.stdout).toMatch(/^Port:\s+<unset>\s+80\/TCP$/m);
    expect(svc.stdout).toMatch(/^Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080$/m);
    const slices = await kubectl(['describe', 'endpointslices', '-l', 'kubernetes.io/service-name=hello']);
    expect(slices.stdout).toMatch(/^Ports:\s*\n\s+Name\s+Port\s+Protocol\n\s+----\s+----\s+--------\n\s+<unset>\s+8080\s+TCP$/m);
    const stored = JSON.parse((await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=hello', '-o', 'json'])).stdout);
    expect(stored.items[0].ports).toEqual([{ name: '', port: 8080, protocol: 'TCP' }]);
  });

  it('describes an object of every kind: exit 0, no error, the object printed', async () => {
    const described: string[] = [];
    for (const t of allResourceTypes) {
      const resource = t.group ? `${t.plural}.${t.version}.${t.group}` : t.plural;
      const scope = t.namespaced ? ['-A'] : [];
      const list = JSON.parse((await kubectl(['get', resource, ...scope, '-o', 'json'])).stdout) as { items: Array<{ metadata: { name: string; namespace?: string } }> };
      const item = list.items[0];
      expect(item, `an object of ${resource} to describe`).toBeDefined();
      const args = ['describe', resource, item!.metadata.name, ...(item!.metadata.namespace ? ['-n', item!.metadata.namespace] : [])];
      const { stdout, stderr } = await kubectl(args);
      expect(stderr, args.join(' ')).not.toMatch(/panic|error/i);
      expect(stdout, args.join(' ')).toMatch(new RegExp(`^(Name|Namespace|Object):?\\s+`, 'm'));
      expect(stdout, args.join(' ')).toContain(item!.metadata.name);
      described.push(t.kind);
    }
    expect(new Set(described).size).toBe(new Set(allResourceTypes.map((t) => t.kind)).size);
  }, 120_000);
});
