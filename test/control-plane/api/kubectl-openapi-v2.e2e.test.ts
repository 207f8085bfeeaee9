// OpenAPI v2 (gnostic protobuf) and v3 with the real kubectl: `kubectl explain` of every kind from the
// v2 document (--output=plaintext-openapiv2, which reads /openapi/v2 only) and from v3 with nested
// fields, `kubectl apply` with validation on (strict refuses an unknown field with the server's
// words, warn warns), and server-side apply by two managers typed by the list map keys the
// Kubernetes types declare (containers by name, ports by containerPort and protocol).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResourceTypes } from '../../../control-plane/resources/resource-types.js';
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

describe.skipIf(!hasTool('kubectl', 'kubectl OpenAPI v2 e2e'))('OpenAPI v2 and v3 with the real kubectl', () => {
  let c: KubectlCluster;
  const out = (args: string[], stdin?: string) => c.kubectlOk(args, stdin);
  beforeAll(async () => {
    c = await startKubectlCluster();
  }, 60_000);
  afterAll(async () => c?.close());

  it('explains every kind from the v2 protobuf document, and nested fields from v2 and v3', async () => {
    for (const t of allResourceTypes) {
      const text = await out(['explain', t.plural, `--api-version=${t.apiVersion}`, '--output=plaintext-openapiv2']);
      expect(text, t.plural).toMatch(new RegExp(`^KIND:\\s+${t.kind}$`, 'm'));
      expect(text, t.plural).toMatch(new RegExp(`^VERSION:\\s+${t.group ? `${t.group.replace(/\./g, '\\.')}/` : ''}${t.version}$`, 'm'));
    }
    const v2 = await out(['explain', 'deployment.spec.template.spec.containers.ports', '--output=plaintext-openapiv2']);
    expect(v2).toMatch(/^RESOURCE: ports <\[\]Object>$/m);
    expect(v2).toMatch(/^ {3}containerPort\t<integer> -required-$/m);
    const v3 = await out(['explain', 'deployment.spec.template.spec.containers.ports']);
    expect(v3).toMatch(/^FIELD: ports <\[\]ContainerPort>$/m);
    expect(v3).toMatch(/^ {2}protocol\t<string>$/m);
    expect(await out(['explain', 'pods.spec.containers.env.valueFrom.secretKeyRef.name', '--output=plaintext-openapiv2'])).toMatch(/^FIELD:\s+name <string>$/m);
  }, 180_000);

  it('applies with validation on: strict refuses an unknown field, warn warns, and a second apply patches through the v3 merge keys', async () => {
    const bad = deployment('      - {name: main, image: registry.local/web:1, bogus: 1}');
    const strict = await c.kubectl(['apply', '--validate=strict', '-f', '-'], bad);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.template.spec.containers[0].bogus"');
    const warn = await c.kubectl(['apply', '--validate=warn', '-f', '-'], bad);
    expect(warn.code, warn.stderr).toBe(0);
    expect(warn.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].bogus"');
    // without --validate kubectl validates (strict) too: a good manifest goes through, then a change patches
    await out(['apply', '-f', '-'], deployment('      - {name: main, image: registry.local/web:2, ports: [{containerPort: 80}]}'));
    const d = JSON.parse(await out(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.template.spec.containers[0].image).toBe('registry.local/web:2');
    expect(d.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  }, 60_000);

  it('server-side apply by two managers: containers owned by name, ports by containerPort and protocol', async () => {
    const mine = `apiVersion: apps/v1
kind: Deployment
metadata: {name: shared}
spec:
  selector: {matchLabels: {app: shared}}
  template:
    metadata: {labels: {app: shared}}
    spec:
      containers:
      - name: main
        image: registry.local/web:1
        ports: [{containerPort: 80}]
`;
    const theirs = `apiVersion: apps/v1
kind: Deployment
metadata: {name: shared}
spec:
  selector: {matchLabels: {app: shared}}
  template:
    metadata: {labels: {app: shared}}
    spec:
      containers:
      - name: main
        ports: [{containerPort: 80, protocol: UDP}]
      - name: sidecar
        image: registry.local/side:1
`;
    await out(['apply', '--server-side', '--field-manager=alice', '-f', '-'], mine);
    await out(['apply', '--server-side', '--field-manager=bob', '-f', '-'], theirs);
    const d = JSON.parse(await out(['get', 'deploy', 'shared', '-o', 'json', '--show-managed-fields']));
    const containers = d.spec.template.spec.containers;
    expect(containers.map((x: { name: string }) => x.name)).toEqual(['main', 'sidecar']);
    expect(containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 80, protocol: 'UDP' }]);
    const bob = d.metadata.managedFields.find((m: { manager: string }) => m.manager === 'bob');
    const bobMain = bob.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"main"}'];
    expect(Object.keys(bobMain['f:ports']).filter((k) => k !== '.')).toEqual(['k:{"containerPort":80,"protocol":"UDP"}']);
    expect(bobMain['f:ports']['k:{"containerPort":80,"protocol":"UDP"}']).toEqual({ '.': {}, 'f:containerPort': {}, 'f:protocol': {} });
    const alice = d.metadata.managedFields.find((m: { manager: string }) => m.manager === 'alice');
    expect(Object.keys(alice.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"main"}']['f:ports'])).toContain('k:{"containerPort":80,"protocol":"TCP"}');

    // bob changing alice's image conflicts on that field only; alice dropping her port leaves bob's
    const conflict = await c.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], theirs.replace('      - name: main\n', '      - name: main\n        image: registry.local/web:9\n'));
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('conflict with "alice": .spec.template.spec.containers[name="main"].image');
    await out(['apply', '--server-side', '--field-manager=alice', '-f', '-'], mine.replace('        ports: [{containerPort: 80}]\n', ''));
    const after = JSON.parse(await out(['get', 'deploy', 'shared', '-o', 'json']));
    expect(after.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'UDP' }]);
  }, 60_000);

  it('falls back to v2 where a server has no v3: explain, and client-side apply patching through v2 merge keys', async () => {
    const old = await startKubectlCluster('sqlite', { withoutOpenApiV3: true });
    try {
      const run = (args: string[], stdin?: string) => old.kubectlOk(args, stdin);
      expect(await run(['explain', 'deployment.spec.template.spec.containers.ports'])).toMatch(/^RESOURCE: ports <\[\]Object>$/m);
      await run(['apply', '-f', '-'], deployment('      - {name: main, image: registry.local/web:1, env: [{name: A, value: "1"}]}\n      - {name: side, image: registry.local/side:1}'));
      const verbose = await old.kubectl(['apply', '-v=6', '-f', '-'], deployment('      - {name: main, image: registry.local/web:2, env: [{name: A, value: "2"}]}'));
      expect(verbose.code, verbose.stderr).toBe(0);
      expect(verbose.stderr).toMatch(/GET https:\/\/[^ ]+\/openapi\/v2\S* 200 OK/);
      const d = JSON.parse(await run(['get', 'deploy', 'web', '-o', 'json']));
      expect(d.spec.template.spec.containers.map((x: { name: string; image: string }) => `${x.name}=${x.image}`)).toEqual(['main=registry.local/web:2']);
      expect(d.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '2' }]);
    } finally {
      await old.close();
    }
  }, 90_000);
});
