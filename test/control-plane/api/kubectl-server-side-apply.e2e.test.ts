// `kubectl apply --server-side` with the real kubectl: managedFields shown by `get -o yaml
// --show-managed-fields`, a conflict with another manager's change (kubectl scale) reported as the
// real server words it, `--force-conflicts` taking the field over, pruning of a dropped field, and
// client-side apply still working next to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

const manifest = (replicas: number, withLabel: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
${withLabel ? '  labels:\n    tier: front\n' : ''}spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
`;

describe.skipIf(!hasTool('kubectl', 'server-side apply e2e'))('kubectl apply --server-side', () => {
  let k: KubectlCluster;
  const ok = (args: string[], stdin?: string) => k.kubectlOk(args, stdin);

  beforeAll(async () => {
    k = await startKubectlCluster();
  }, 60_000);
  afterAll(async () => {
    await k?.close();
  });

  it('owns fields, reports conflicts, forces and prunes', async () => {
    expect(await ok(['apply', '--server-side', '-f', '-'], manifest(2, true))).toContain('deployment.apps/web serverside-applied');
    const yaml = await ok(['get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields']);
    expect(yaml).toContain('manager: kubectl');
    expect(yaml).toContain('operation: Apply');
    expect(yaml).toMatch(/f:containers:\n\s+k:\{"name":"web"\}:/);

    expect(await ok(['scale', 'deployment', 'web', '--replicas=4'])).toContain('deployment.apps/web scaled');
    const conflict = await k.kubectl(['apply', '--server-side', '-f', '-'], manifest(2, true));
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas\n');
    expect(conflict.stderr).toContain('Please review the fields above--they currently have other managers.');
    expect((await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']))).toBe('4');

    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest(2, false))).toContain('deployment.apps/web serverside-applied');
    expect(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.labels.tier}'])).toBe('2 ');
    const managers = JSON.parse(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.managedFields}', '--show-managed-fields'])) as Array<{ manager: string; operation: string }>;
    expect(managers.map((m) => `${m.manager}/${m.operation}`)).toEqual(['kubectl/Apply']);

    // client-side apply keeps working alongside (its own manager, an Update)
    expect(await ok(['apply', '-f', '-'], manifest(3, true).replace('name: web\n', 'name: web-csa\n').replace(/app: web/g, 'app: csa'))).toContain('deployment.apps/web-csa created');
    expect(await ok(['apply', '-f', '-'], manifest(1, true).replace('name: web\n', 'name: web-csa\n').replace(/app: web/g, 'app: csa'))).toContain('deployment.apps/web-csa configured');
    const csa = JSON.parse(await ok(['get', 'deployment', 'web-csa', '-o', 'json', '--show-managed-fields'])) as { spec: { replicas: number }; metadata: { managedFields: Array<{ manager: string; operation: string }> } };
    expect(csa.spec.replicas).toBe(1);
    expect(csa.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`)).toContain('kubectl-client-side-apply/Update');
  }, 120_000);
});
