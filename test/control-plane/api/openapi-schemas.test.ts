// The OpenAPI v3 documents carry every kind's schema (kubectl explain) with patch extensions that
// match what this server's strategic merge patch does (kubectl builds apply patches from them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedName } from '../../../control-plane/api/openapi-schemas.js';
import { servedGroupVersions } from '../../../control-plane/resources/resource-types.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

type Doc = { components: { schemas: Record<string, any> } };

describe('OpenAPI v3 schemas', () => {
  let api: TestApi;
  const docs = new Map<string, Doc>();
  beforeAll(async () => {
    api = await openTestApi();
    const index = await (await api.call('GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    for (const [path, { serverRelativeURL }] of Object.entries(index.paths)) docs.set(path, await (await api.call('GET', serverRelativeURL)).json() as Doc);
  });
  afterAll(async () => api.close());

  it('names definitions like Kubernetes does', () => {
    expect(servedName('V1PodSpec')).toBe('io.k8s.v1.PodSpec');
    expect(servedName('CoreV1EndpointPort')).toBe('io.k8s.core.v1.EndpointPort');
    expect(servedName('V2HorizontalPodAutoscaler')).toBe('io.k8s.v2.HorizontalPodAutoscaler');
  });

  it('has a schema with its group-version-kind for every kind, every $ref resolving in its document', () => {
    for (const gv of servedGroupVersions()) {
      const doc = docs.get(gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`)!;
      const gvks = Object.values(doc.components.schemas).flatMap((s) => s['x-kubernetes-group-version-kind'] ?? []);
      for (const t of gv.types) expect(gvks).toContainEqual({ group: t.group, version: t.version, kind: t.kind });
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty([ref.slice('"#/components/schemas/'.length, -1)]);
    }
  });

  it('carries the merge keys this server patches lists by', () => {
    const core = docs.get('api/v1')!.components.schemas;
    const meta = (def: string, field: string) => {
      const p = core[def].properties[field];
      return [p['x-kubernetes-patch-strategy'], p['x-kubernetes-patch-merge-key']];
    };
    expect(meta('io.k8s.v1.PodSpec', 'containers')).toEqual(['merge', 'name']);
    expect(meta('io.k8s.v1.Container', 'ports')).toEqual(['merge', 'containerPort']);
    expect(meta('io.k8s.v1.Container', 'env')).toEqual(['merge', 'name']);
    expect(meta('io.k8s.v1.ServiceSpec', 'ports')).toEqual(['merge', 'port']);
    expect(meta('io.k8s.v1.ObjectMeta', 'finalizers')).toEqual(['merge', undefined]);
    expect(meta('io.k8s.v1.Container', 'args')).toEqual([undefined, undefined]);
    expect(core['io.k8s.v1.ContainerPort'].properties.containerPort).toMatchObject({ type: 'integer', format: 'int32' });
  });
});
