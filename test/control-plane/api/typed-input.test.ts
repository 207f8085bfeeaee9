// Bad input gets 4xx, never 500: every field is type-checked against its kind's schema before
// defaulting (422 with field causes worded like the real server), int32/int64 ranges are enforced,
// bodies nested deeper than the cap are 400, and patches of any type with wrong types are 4xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../api/errors.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aDeployment } from '../support/sample-objects.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

const PODS = '/api/v1/namespaces/default/pods';
const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const JOBS = '/apis/batch/v1/namespaces/default/jobs';

type Status = { code: number; reason: string; message: string; details?: { kind?: string; causes?: Array<{ field: string; reason: string; message: string }> } };
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('typed input', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body: unknown, contentType?: string) => {
    const res = await api.call(method, path, { body, ...(contentType ? { contentType } : {}) });
    return { status: res.status, body: await res.json() as Status & Record<string, any> };
  };
  const causesOf = (body: Status) => body.details?.causes?.map((c) => `${c.field}: ${c.message}`) ?? [];

  beforeAll(async () => {
    api = await openTestApi();
    expect((await send('POST', PODS, aPod('web'))).status).toBe(201);
    expect((await send('POST', DEPLOYS, aDeployment('web'))).status).toBe(201);
  });
  afterAll(async () => api.close());

  it('answers wrong types with 422 and causes worded like the real server', async () => {
    const pod = aPod('typed') as any;
    pod.spec.containers[0].ports = [{ containerPort: 'string' }];
    const res = await send('POST', PODS, pod);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'Invalid', details: { kind: 'Pod', name: 'typed' } });
    expect(causesOf(res.body)).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: "string": spec.containers[0].ports[0].containerPort in body must be of type integer: "string"',
    ]);
    expect(res.body.details?.causes?.[0]?.reason).toBe('FieldValueTypeInvalid');
  });

  it('never reaches defaulting with a wrong type (the fuzz findings that were 500s)', async () => {
    const cases: Array<[string, unknown, string]> = [
      [PODS, { metadata: { name: 'a' }, spec: 'NaN' }, 'spec: Invalid value: "string": spec in body must be of type object: "string"'],
      [PODS, { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'i' }], tolerations: {} } }, 'spec.tolerations: Invalid value: "object": spec.tolerations in body must be of type array: "object"'],
      [PODS, { metadata: { name: 'c' }, spec: { containers: 'x' } }, 'spec.containers: Invalid value: "string": spec.containers in body must be of type array: "string"'],
      [PODS, { metadata: { name: 'd' }, spec: { containers: [7] } }, 'spec.containers[0]: Invalid value: "integer": spec.containers[0] in body must be of type object: "integer"'],
      [PODS, { metadata: 'x', spec: {} }, 'metadata: Invalid value: "string": metadata in body must be of type object: "string"'],
      [DEPLOYS, { metadata: { name: 'e' }, spec: { template: [] } }, 'spec.template: Invalid value: "array": spec.template in body must be of type object: "array"'],
      [DEPLOYS, { metadata: { name: 'f' }, spec: { strategy: { rollingUpdate: { maxSurge: true } } } }, 'spec.strategy.rollingUpdate.maxSurge: Invalid value: "boolean": spec.strategy.rollingUpdate.maxSurge in body must be of type integer,string: "boolean"'],
      [PODS, { metadata: { name: 'g' }, spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: [] } } }] } }, 'spec.containers[0].resources.limits[cpu]: Invalid value: "array": spec.containers[0].resources.limits[cpu] in body must be of type string,number: "array"'],
      [PODS, { metadata: { name: 'h', creationTimestamp: 'yesterday' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, 'metadata.creationTimestamp: Invalid value: "yesterday": metadata.creationTimestamp in body must be of type date-time: "yesterday"'],
    ];
    for (const [path, body, cause] of cases) {
      const res = await send('POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(causesOf(res.body)).toContain(cause);
    }
  });

  it('refuses label and annotation values that are not strings', async () => {
    for (const metadata of [{ labels: { app: 1 } }, { labels: { app: { x: 'y' } } }, { annotations: { note: true } }, { annotations: { note: ['a'] } }]) {
      const res = await send('POST', PODS, { ...aPod('labelled'), metadata: { name: 'labelled', ...metadata } });
      expect(res.status, JSON.stringify(metadata)).toBe(422);
      expect(causesOf(res.body)[0]).toMatch(/^metadata\.(labels|annotations)\[(app|note)\]: Invalid value: "\w+": .* must be of type string/);
    }
    const res = await send('PATCH', `${PODS}/web`, { metadata: { labels: { app: 5 } } }, 'application/merge-patch+json');
    expect(res.status).toBe(422);
  });

  it('enforces int32 and int64 ranges like the real server', async () => {
    const deploy = (replicas: unknown) => ({ ...aDeployment('ranged'), spec: { ...aDeployment('ranged').spec, replicas } });
    const over = await send('POST', DEPLOYS, deploy(2147483648));
    expect(over.status).toBe(422);
    expect(causesOf(over.body)).toEqual(['spec.replicas: Invalid value: 2147483648: spec.replicas in body should be less than or equal to 2147483647']);
    const under = await send('POST', DEPLOYS, deploy(-2147483649));
    expect(causesOf(under.body)).toEqual(['spec.replicas: Invalid value: -2147483649: spec.replicas in body should be greater than or equal to -2147483648']);
    expect((await send('POST', DEPLOYS, deploy(1.5))).status).toBe(422);
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'ranged' },
      spec: { parallelism: 4294967296, completions: 2 ** 31, activeDeadlineSeconds: 2 ** 63, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } };
    const jobRes = await send('POST', JOBS, job);
    expect(jobRes.status).toBe(422);
    expect(causesOf(jobRes.body)).toEqual([
      'spec.parallelism: Invalid value: 4294967296: spec.parallelism in body should be less than or equal to 2147483647',
      'spec.completions: Invalid value: 2147483648: spec.completions in body should be less than or equal to 2147483647',
      'spec.activeDeadlineSeconds: Invalid value: 9223372036854776000: spec.activeDeadlineSeconds in body should be less than or equal to 9223372036854775807',
    ]);
    const pod = aPod('porty') as any;
    pod.spec.containers[0].ports = [{ containerPort: 2 ** 40 }];
    expect(causesOf((await send('POST', PODS, pod)).body)[0]).toMatch(/containerPort in body should be less than or equal to 2147483647$/);
    // scale subresource (kubectl scale) and a patch both meet the same check
    const scale = await send('PUT', `${DEPLOYS}/web/scale`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 2147483648 } });
    expect(scale.status).toBe(422);
    expect((await send('PATCH', `${DEPLOYS}/web/scale`, { spec: { replicas: 2 ** 31 } }, 'application/merge-patch+json')).status).toBe(422);
    expect((await send('PATCH', `${DEPLOYS}/web`, { spec: { replicas: 2 ** 31 } }, 'application/strategic-merge-patch+json')).status).toBe(422);
    expect((await api.resources.get<any>(resourceTypes.deployments, 'default', 'web')).spec.replicas).toBe(1);
  });

  it('answers patches of every type with wrong types with 4xx and keeps the object', async () => {
    const patches: Array<[string, unknown]> = [
      ['application/strategic-merge-patch+json', { spec: { containers: 'x' } }],
      ['application/strategic-merge-patch+json', { spec: { containers: [{ name: 'main', ports: 'x' }] } }],
      ['application/strategic-merge-patch+json', { spec: { containers: [{ name: { $patch: 'delete' } }] } }],
      ['application/merge-patch+json', { spec: { containers: 'x' } }],
      ['application/merge-patch+json', { spec: 'x' }],
      ['application/merge-patch+json', 'x'],
      ['application/json-patch+json', [{ op: 'replace', path: '/spec/containers', value: 'x' }]],
      ['application/json-patch+json', [{ op: 'add', path: '/spec/nodeSelector', value: { a: 1 } }]],
      ['application/json-patch+json', { op: 'add' }],
      ['application/apply-patch+yaml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: 'x' } }],
    ];
    for (const [type, patch] of patches) {
      const res = await send('PATCH', `${PODS}/web`, patch, type);
      expect(res.status, `${type} ${JSON.stringify(patch)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${type} ${JSON.stringify(patch)}`).toBeLessThan(500);
    }
    const pod = await api.resources.get<any>(resourceTypes.pods, 'default', 'web');
    expect(pod.spec.containers).toHaveLength(1);
  });

  it('accepts null as the real decoder does: the field is left unset and defaulted', async () => {
    const res = await send('POST', DEPLOYS, { ...aDeployment('nulls'), spec: { ...aDeployment('nulls').spec, replicas: null, paused: null } });
    expect(res.status).toBe(201);
    expect(res.body.spec.replicas).toBe(1);
    expect(res.body.spec).not.toHaveProperty('paused');
  });
});

describe('nesting depth', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await openTestApi();
    await api.call('POST', PODS, { body: aPod('web') });
  });
  afterAll(async () => api.close());

  it('refuses bodies nested deeper than the cap with 400 on every write path', async () => {
    const deep = nested(2000);
    const arrays = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const requests: Array<[string, string, string, string?]> = [
      ['POST', PODS, deep], ['POST', PODS, arrays], ['PUT', `${PODS}/web`, deep], ['PUT', `${PODS}/web/status`, deep],
      ['PATCH', `${PODS}/web`, deep, 'application/merge-patch+json'], ['PATCH', `${PODS}/web`, deep, 'application/strategic-merge-patch+json'],
      ['PATCH', `${PODS}/web`, `[{"op":"add","path":"/metadata/annotations","value":${deep}}]`, 'application/json-patch+json'],
      ['PATCH', `${PODS}/web`, deep, 'application/apply-patch+yaml'], ['POST', PODS, `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/yaml'],
      ['PATCH', `${PODS}/web`, `${'['.repeat(3000)}${']'.repeat(3000)}`, 'application/apply-patch+yaml'],
      ['POST', PODS, `${'- '.repeat(3000)}x`, 'application/yaml'], ['POST', PODS, Array.from({ length: 1500 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1', 'application/yaml'],
      ['POST', PODS, Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1', 'application/yaml'],
      ['DELETE', `${PODS}/web`, deep], ['POST', `${PODS}/web/eviction`, deep], ['POST', `${PODS}/web/binding`, deep],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/x/scale', deep],
    ];
    for (const [method, path, body, contentType] of requests) {
      const res = await api.call(method, path, { body, ...(contentType ? { contentType } : {}) });
      expect(res.status, `${method} ${path} ${contentType ?? ''}`).toBe(400);
      expect((await res.json() as Status).message, `${method} ${path}`).toMatch(/nested more than 100 levels deep|could not be decoded/);
    }
    expect((await api.call('GET', `${PODS}/web`)).status).toBe(200);
  });

  it('accepts YAML whose text is deeply indented but whose nesting is shallow', async () => {
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: indented\ndata:\n  file: |\n${' '.repeat(300)}deeply indented text\n${' '.repeat(302)}- not: [a, list]\n`;
    const res = await api.call('POST', '/api/v1/namespaces/default/configmaps', { body: yaml, contentType: 'application/yaml' });
    expect(res.status).toBe(201);
    expect((await res.json() as { data: { file: string } }).data.file).toContain('deeply indented text');
  });

  it('accepts free-form data up to the cap and refuses a patch that would nest the stored object deeper', async () => {
    const revision = (data: unknown) => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data });
    const ok = await api.call('POST', '/apis/apps/v1/namespaces/default/controllerrevisions', { body: revision(JSON.parse(nested(90))) });
    expect(ok.status).toBe(201);
    const pointer = `/data${'/a'.repeat(89)}`;
    const res = await api.call('PATCH', '/apis/apps/v1/namespaces/default/controllerrevisions/r',
      { body: [{ op: 'replace', path: pointer, value: JSON.parse(nested(50)) }], contentType: 'application/json-patch+json' });
    expect(res.status).toBe(400);
    expect((await res.json() as Status).message).toContain('nested more than 100 levels deep');
  });

  it('guards ResourceStore itself: a deep object is a BadRequestError, not a stack overflow', async () => {
    const pod = aPod('deep') as any;
    pod.metadata.annotations = undefined;
    pod.spec.overhead = JSON.parse(nested(50_000));
    await expect(api.resources.create(resourceTypes.pods, pod)).rejects.toBeInstanceOf(BadRequestError);
    await expect(api.resources.update(resourceTypes.pods, { ...pod, metadata: { name: 'web', namespace: 'default' } })).rejects.toBeInstanceOf(BadRequestError);
  });
});
