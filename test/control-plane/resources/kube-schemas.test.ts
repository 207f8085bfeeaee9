// The schemas behind type checks and fieldValidation: generated from @kubernetes/client-node, one per
// kind skiff serves, and kept in step with the installed client-node by the generator's --check.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { allResourceTypes } from '../../../control-plane/resources/resource-types.js';
import { resolveSchema, schemaDefinitions, schemaOfKind } from '../../../control-plane/resources/schema/object-schemas.js';

const run = promisify(execFile);
const field = (definition: string, name: string) => schemaDefinitions[definition]?.properties?.[name];

describe('kind schemas', () => {
  it('are what scripts/generate-kube-schemas.mjs makes from the installed @kubernetes/client-node', async () => {
    const { stdout } = await run(process.execPath, ['scripts/generate-kube-schemas.mjs', '--check']);
    expect(stdout).toContain('is up to date');
  }, 60_000);

  it('cover every kind skiff serves, every reference resolving', () => {
    for (const t of allResourceTypes) expect(schemaOfKind(t.apiVersion, t.kind), `${t.apiVersion} ${t.kind}`).toBeDefined();
    for (const [name, def] of Object.entries(schemaDefinitions)) {
      for (const [prop, node] of Object.entries(def.properties ?? {})) {
        for (const ref of [node.$ref, node.items?.$ref, node.additionalProperties?.$ref]) {
          if (ref) expect(schemaDefinitions[ref], `${name}.${prop} -> ${ref}`).toBeDefined();
        }
      }
    }
  });

  it('carry int32/int64 formats, IntOrString, Quantity, maps and free-form parts', () => {
    expect(field('V1DeploymentSpec', 'replicas')).toMatchObject({ type: 'integer', format: 'int32' });
    expect(field('V1JobSpec', 'activeDeadlineSeconds')).toMatchObject({ type: 'integer', format: 'int64' });
    expect(field('V1ServicePort', 'targetPort')).toMatchObject({ 'x-kubernetes-int-or-string': true });
    expect(field('V1ResourceRequirements', 'limits')?.additionalProperties).toMatchObject({ type: 'string', format: 'quantity' });
    expect(field('V1ObjectMeta', 'labels')).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(field('V1ControllerRevision', 'data')).toMatchObject({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(resolveSchema(field('V1PodSpec', 'containers')!.items!)).toMatchObject({ required: ['name'] });
    expect(field('V1ContainerPort', 'containerPort')?.description).toMatch(/^Number of port to expose/);
  });
});
