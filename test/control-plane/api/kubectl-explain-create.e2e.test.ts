// The real kubectl against the API alone: `kubectl explain` of every kind served (from the OpenAPI v3
// documents), and the protobuf bodies of `kubectl create serviceaccount|ingress`, `kubectl autoscale`
// and `kubectl debug --copy-to` decoded into the objects kubectl meant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResourceTypes } from '../../../control-plane/resources/resource-types.js';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

describe.skipIf(!hasTool('kubectl', 'kubectl explain and create e2e'))('kubectl explain and protobuf creates', () => {
  let c: KubectlCluster;
  const out = (args: string[], stdin?: string) => c.kubectlOk(args, stdin);
  beforeAll(async () => {
    c = await startKubectlCluster();
  }, 60_000);
  afterAll(async () => c?.close());

  it('explains every kind served, in every version served', async () => {
    for (const t of allResourceTypes) {
      // kubectl explain reads `a.b` as a field path: the group goes in --api-version
      const resource = t.plural;
      const text = await out(['explain', resource, `--api-version=${t.apiVersion}`]);
      expect(text, resource).toMatch(new RegExp(`^KIND:\\s+${t.kind}$`, 'm'));
      expect(text, resource).toMatch(new RegExp(`^VERSION:\\s+${t.version}$`, 'm'));
      if (t.group) expect(text, resource).toMatch(new RegExp(`^GROUP:\\s+${t.group.replace(/\./g, '\\.')}$`, 'm'));
    }
    expect(await out(['explain', 'statefulsets.spec.updateStrategy.rollingUpdate.partition'])).toMatch(/^FIELD: partition <integer>$/m);
    expect(await out(['explain', 'cronjobs.spec.schedule'])).toMatch(/^FIELD: schedule <string>$/m);
    expect(await out(['explain', 'pdb.spec.minAvailable'])).toMatch(/^FIELD: minAvailable <\w+>$/m);
  }, 120_000);

  it('creates a ServiceAccount, an Ingress, an HPA and a debug copy of a pod from kubectl\'s protobuf bodies', async () => {
    expect(await out(['create', 'serviceaccount', 'robot'])).toContain('serviceaccount/robot created');
    expect(await out(['create', 'ingress', 'web', '--class=skiff', '--rule=web.edge.local/api*=web:8080', '--default-backend=fallback:http'])).toContain('ingress.networking.k8s.io/web created');
    const ing = JSON.parse(await out(['get', 'ingress', 'web', '-o', 'json']));
    expect(ing.spec).toEqual({
      ingressClassName: 'skiff', defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } },
      rules: [{ host: 'web.edge.local', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8080 } } } }] } }],
    });
    await out(['create', 'deployment', 'web', '--image=registry.local/web:1']);
    expect(await out(['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=70'])).toContain('horizontalpodautoscaler.autoscaling/web autoscaled');
    const hpa = JSON.parse(await out(['get', 'hpa', 'web', '-o', 'json']));
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5 });
    expect(JSON.stringify(hpa.spec)).toContain('70');

    await out(['run', 'orig', '--image=registry.local/web:1', '--labels=app=orig', '--env=A=b']);
    expect(await out(['debug', 'orig', '--copy-to=orig-debug', '--image=registry.local/tools:1', '--container=debugger'])).toBe('');
    const copy = JSON.parse(await out(['get', 'pod', 'orig-debug', '-o', 'json']));
    expect(copy.spec.containers.map((x: { name: string; image: string }) => `${x.name}=${x.image}`)).toEqual(['orig=registry.local/web:1', 'debugger=registry.local/tools:1']);
    expect(copy.spec.containers[0].env).toEqual([{ name: 'A', value: 'b' }]);
  }, 120_000);
});
