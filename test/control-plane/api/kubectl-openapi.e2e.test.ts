// The kind schemas served as OpenAPI v3: `kubectl explain` reads them, and kubectl's client-side apply
// builds its strategic merge patches from their patch extensions (lists merged by key here as well).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

const deployment = (containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
${containers}`;
const service = (ports: string) => `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
${ports}`;

describe.skipIf(!hasTool('kubectl', 'kubectl OpenAPI e2e'))('OpenAPI v3 with the real kubectl', () => {
  let c: KubectlCluster;
  const out = (args: string[], stdin?: string) => c.kubectlOk(args, stdin);
  beforeAll(async () => {
    c = await startKubectlCluster();
  }, 60_000);
  afterAll(async () => c?.close());

  it('explains fields of the kinds skiff serves, with their types and descriptions', async () => {
    const ports = await out(['explain', 'pods.spec.containers.ports']);
    expect(ports).toMatch(/^KIND:\s+Pod$/m);
    expect(ports).toMatch(/^FIELD: ports <\[\]ContainerPort>$/m);
    expect(ports).toMatch(/^ {2}containerPort\t<integer> -required-$/m);
    expect(ports).toContain('Number of port to expose on the pod\'s IP address.');
    expect(await out(['explain', 'deployment.spec.replicas'])).toMatch(/^FIELD: replicas <integer>$/m);
    expect(await out(['explain', 'hpa', '--api-version=autoscaling/v1'])).toMatch(/^ {2}spec\t<HorizontalPodAutoscalerSpec>$/m);
    expect(await out(['explain', 'endpointslices.ports'])).toMatch(/^FIELD: ports <\[\]EndpointPort>$/m);
  });

  it('applies changes to keyed lists (containers, env, ports) the way a real cluster does', async () => {
    await out(['apply', '-f', '-'], deployment(`      - {name: main, image: registry.local/web:1, env: [{name: A, value: "1"}, {name: B, value: "2"}]}
      - {name: side, image: registry.local/side:1}`));
    await out(['apply', '-f', '-'], deployment('      - {name: main, image: registry.local/web:2, env: [{name: B, value: "3"}]}'));
    const d = JSON.parse(await out(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.template.spec.containers.map((x: { name: string }) => x.name)).toEqual(['main']);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'registry.local/web:2', env: [{ name: 'B', value: '3' }] });

    await out(['apply', '-f', '-'], service('  - {name: http, port: 80, targetPort: 8080}\n  - {name: admin, port: 9090}'));
    await out(['apply', '-f', '-'], service('  - {name: http, port: 8080, targetPort: 8080}'));
    const s = JSON.parse(await out(['get', 'svc', 'web', '-o', 'json']));
    expect(s.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual(['http:8080']);
  });
});
