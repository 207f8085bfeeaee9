// The real kubectl against skiff's HTTPS API: a misspelled field is reported as a real server reports
// it (kubectl 1.32 sends fieldValidation=Strict for create/apply/replace; patch gets the server's
// default, Warn), --validate=warn prints
// the warning and goes ahead, --validate=false drops the field silently; wrong types and out-of-range
// integers come back as Invalid with the field named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../../support/tools.js';
import { startKubectlCluster, type KubectlCluster } from '../support/kubectl-harness.js';

const manifest = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: main
    image: registry.local/hello:1.0
    imagePullPolcy: Always
${extra}`;

const unknownField = 'unknown field "spec.containers[0].imagePullPolcy"';

describe.skipIf(!hasTool('kubectl', 'kubectl field validation e2e'))('kubectl field validation', () => {
  let c: KubectlCluster;
  beforeAll(async () => {
    c = await startKubectlCluster();
  }, 60_000);
  afterAll(async () => c?.close());

  it('reports a misspelled field on create, apply and replace (Strict by default) and warns on patch', async () => {
    for (const verb of ['create', 'apply']) {
      const r = await c.kubectl([verb, '-f', '-'], manifest(`strict-${verb}`));
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: strict decoding error: ${unknownField}`);
      expect((await c.kubectl(['get', 'pod', `strict-${verb}`])).code).not.toBe(0);
    }
    expect((await c.kubectl(['create', '-f', '-'], manifest('replaced').replace('    imagePullPolcy: Always\n', ''))).code).toBe(0);
    const replace = await c.kubectl(['replace', '-f', '-'], manifest('replaced'));
    expect(replace.code).not.toBe(0);
    expect(replace.stderr).toContain(`strict decoding error: ${unknownField}`);
    // kubectl patch sends no fieldValidation: the server's default (Warn) applies, as on a real cluster
    const patch = await c.kubectl(['patch', 'pod', 'replaced', '-p', '{"metadata":{"lables":{"a":"b"}}}']);
    expect(patch.code, patch.stderr).toBe(0);
    expect(patch.stderr).toContain('Warning: unknown field "metadata.lables"');
    const serverSide = await c.kubectl(['apply', '--server-side', '-f', '-'], manifest('replaced'));
    expect(serverSide.code).not.toBe(0);
    expect(serverSide.stderr).toContain(unknownField);
  });

  it('--validate=warn prints the warning and creates the object without the field', async () => {
    const r = await c.kubectl(['create', '--validate=warn', '-f', '-'], manifest('warned'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Warning: ${unknownField}`);
    expect(r.stdout).toContain('pod/warned created');
    expect(JSON.parse((await c.kubectl(['get', 'pod', 'warned', '-o', 'json'])).stdout).spec.containers[0]).not.toHaveProperty('imagePullPolcy');
  });

  it('--validate=false drops the field silently', async () => {
    const r = await c.kubectl(['apply', '--validate=false', '-f', '-'], manifest('ignored'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('Warning');
    expect(r.stdout).toContain('pod/ignored created');
  });

  it('reports wrong types and out-of-range integers as Invalid, naming the field', async () => {
    const typed = await c.kubectl(['apply', '-f', '-'], manifest('typed').replace('    imagePullPolcy: Always\n', '    ports:\n    - containerPort: "http"\n'));
    expect(typed.code).not.toBe(0);
    expect(typed.stderr).toContain('The Pod "typed" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: "string": '
      + 'spec.containers[0].ports[0].containerPort in body must be of type integer: "string"');
    expect((await c.kubectl(['create', 'deployment', 'big', '--image=registry.local/hello:1.0'])).code).toBe(0);
    const scaled = await c.kubectl(['scale', 'deployment', 'big', '--replicas=2147483648']);
    expect(scaled.code).not.toBe(0);
    expect(scaled.stderr).toContain('spec.replicas: Invalid value: 2147483648: spec.replicas in body should be less than or equal to 2147483647');
  });
});
