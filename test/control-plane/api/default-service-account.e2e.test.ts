// The `default` ServiceAccount with the real kubectl and no ServiceAccount controller (the API
// alone): a pod in a new namespace that has no `default` ServiceAccount is refused, after the real
// plugin's retries, in its words; once the ServiceAccount exists the same `kubectl run` works.
// (With the controllers, test/e2e/service-account-admission.e2e.test.ts: it is there at once.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

describe.skipIf(!hasTool('kubectl', 'default ServiceAccount e2e'))('default ServiceAccount admission with kubectl', () => {
  let c: KubectlCluster;
  beforeAll(async () => { c = await startKubectlCluster(); }, 60_000);
  afterAll(() => c?.close());

  it('refuses kubectl run in a namespace without `default`, and admits it once created', async () => {
    expect((await c.kubectlOk(['run', 'p', '--image=registry.local/web:1'])).trim()).toBe('pod/p created');
    expect((await c.kubectlOk(['create', 'namespace', 'lonely'])).trim()).toBe('namespace/lonely created');
    const refused = await c.kubectl(['run', 'p', '-n', 'lonely', '--image=registry.local/web:1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toBe('Error from server (Forbidden): pods "p" is forbidden: error looking up service account lonely/default: serviceaccount "default" not found');
    expect((await c.kubectlOk(['create', 'serviceaccount', 'default', '-n', 'lonely'])).trim()).toBe('serviceaccount/default created');
    expect((await c.kubectlOk(['run', 'p', '-n', 'lonely', '--image=registry.local/web:1'])).trim()).toBe('pod/p created');
    expect((await c.kubectlOk(['get', 'pod', 'p', '-n', 'lonely', '-o', 'jsonpath={.spec.serviceAccountName}'])).trim()).toBe('default');
  }, 60_000);
});
