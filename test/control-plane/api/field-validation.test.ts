// fieldValidation as the real API server: Strict -> 400 naming each unknown or duplicate field,
// Warn (the default) -> a `Warning: 299` header per field, Ignore -> dropped; never stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aDeployment } from '../support/sample-objects.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

const PODS = '/api/v1/namespaces/default/pods';
const misspelled = (name: string) => {
  const pod = aPod(name) as any;
  pod.spec.containers[0].imagePullPolcy = 'Always';
  pod.spec.containers[0].env = [{ name: 'A', vaule: 'x' }];
  pod.spec.extra = { deep: true };
  return pod;
};
const warnings = (res: Response) => (res.headers.get('warning') ?? '').split(/,\s*(?=299)/).filter(Boolean);

describe('fieldValidation', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => api.close());

  it('Strict: 400 naming every unknown field, nothing created', async () => {
    const res = await api.call('POST', `${PODS}?fieldValidation=Strict`, { body: misspelled('strict') });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      reason: 'BadRequest',
      message: 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolcy", '
        + 'unknown field "spec.containers[0].env[0].vaule", unknown field "spec.extra"',
    });
    expect((await api.call('GET', `${PODS}/strict`)).status).toBe(404);
  });

  it('Strict: names duplicate fields of the JSON body', async () => {
    const body = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup","name":"dup"},"spec":{"containers":[{"name":"c","image":"i","image":"j"}]}}';
    const res = await api.call('POST', `${PODS}?fieldValidation=Strict`, { body });
    expect(res.status).toBe(400);
    expect((await res.json() as { message: string }).message)
      .toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "metadata.name", duplicate field "spec.containers[0].image"');
  });

  it('Warn (the default): a Warning header per field, the object stored without them', async () => {
    for (const [name, query] of [['warned', '?fieldValidation=Warn'], ['defaulted', '']] as const) {
      const res = await api.call('POST', `${PODS}${query}`, { body: misspelled(name) });
      expect(res.status).toBe(201);
      expect(warnings(res)).toEqual([
        '299 - "unknown field \\"spec.containers[0].imagePullPolcy\\""',
        '299 - "unknown field \\"spec.containers[0].env[0].vaule\\""',
        '299 - "unknown field \\"spec.extra\\""',
      ]);
      const stored = await api.resources.get<any>(resourceTypes.pods, 'default', name);
      expect(stored.spec.containers[0]).not.toHaveProperty('imagePullPolcy');
      expect(stored.spec.containers[0].env).toEqual([{ name: 'A' }]);
      expect(stored.spec).not.toHaveProperty('extra');
    }
  });

  it('Ignore: dropped silently', async () => {
    const res = await api.call('POST', `${PODS}?fieldValidation=Ignore`, { body: misspelled('ignored') });
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBeNull();
    expect((await api.resources.get<any>(resourceTypes.pods, 'default', 'ignored')).spec).not.toHaveProperty('extra');
  });

  it('applies to updates, every patch type and server-side apply, but not to strategic-merge directives', async () => {
    const pod = await api.resources.get<any>(resourceTypes.pods, 'default', 'ignored');
    const put = await api.call('PUT', `${PODS}/ignored?fieldValidation=Strict`, { body: { ...pod, spec: { ...pod.spec, bogus: 1 } } });
    expect(put.status).toBe(400);
    expect((await put.json() as { message: string }).message).toContain('unknown field "spec.bogus"');
    const patches: Array<[string, unknown, string]> = [
      ['application/merge-patch+json', { spec: { bogus: 1 } }, 'spec.bogus'],
      ['application/strategic-merge-patch+json', { spec: { containers: [{ name: 'main', imagePullPolcy: 'Never' }] } }, 'spec.containers[0].imagePullPolcy'],
      ['application/json-patch+json', [{ op: 'add', path: '/metadata/lables', value: { a: 'b' } }], 'metadata.lables'],
      ['application/apply-patch+yaml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ignored' }, spec: { bogus: 1 } }, 'spec.bogus'],
    ];
    for (const [contentType, body, field] of patches) {
      const strict = await api.call('PATCH', `${PODS}/ignored?fieldManager=test&fieldValidation=Strict`, { body, contentType });
      expect(strict.status, contentType).toBe(400);
      expect((await strict.json() as { message: string }).message).toContain(`unknown field "${field}"`);
      const warn = await api.call('PATCH', `${PODS}/ignored?fieldManager=test&fieldValidation=Warn`, { body, contentType });
      expect(warn.status, contentType).toBe(200);
      expect(warnings(warn), contentType).toEqual([`299 - "unknown field \\"${field}\\""`]);
    }
    const directives = await api.call('PATCH', `${PODS}/ignored?fieldValidation=Strict`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { labels: { a: 'b' } }, spec: { '$setElementOrder/containers': [{ name: 'main' }], containers: [{ name: 'main', image: 'registry.local/hello:2.0' }] } },
    });
    expect(directives.status).toBe(200);
    expect(directives.headers.get('warning')).toBeNull();
  });

  it('checks the scale subresource\'s body too', async () => {
    await api.call('POST', '/apis/apps/v1/namespaces/default/deployments', { body: aDeployment('web') });
    const res = await api.call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale?fieldValidation=Strict',
      { body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 2, replicaz: 3 } } });
    expect(res.status).toBe(400);
    expect((await res.json() as { message: string }).message).toBe('Scale in version "v1" cannot be handled as a Scale: strict decoding error: unknown field "spec.replicaz"');
  });

  it('Warn: non-ASCII and control characters in field names are escaped in the header, never a 500', async () => {
    const pod = aPod('unicode') as any;
    pod.spec['t\u00e9l\u00e9phone'] = 1;
    pod.spec['emoji\u{1F600}'] = 2;
    pod.spec['bell\u0007\u007f'] = 3;
    const res = await api.call('POST', PODS, { body: pod });
    expect(res.status).toBe(201);
    const all = warnings(res);
    expect(all).toEqual([
      '299 - "unknown field \\"spec.t\\u00e9l\\u00e9phone\\""',
      '299 - "unknown field \\"spec.emoji\\ud83d\\ude00\\""',
      // the finding quotes the field name once (JSON escapes the bell), the header quotes the finding again
      '299 - "unknown field \\"spec.bell\\\\u0007\\u007f\\""',
    ]);
    for (const w of all) expect(w).toMatch(/^[\x20-\x7e]+$/);
    // the escapes are JSON's: the client gets the field name back exactly
    expect(JSON.parse(all[0]!.slice('299 - '.length))).toBe('unknown field "spec.t\u00e9l\u00e9phone"');
  });

  it('refuses an unknown fieldValidation value', async () => {
    const res = await api.call('POST', `${PODS}?fieldValidation=Loose`, { body: aPod('loose') });
    expect(res.status).toBe(400);
    expect((await res.json() as { message: string }).message).toContain('fieldValidation parameter must be one of Strict, Warn, Ignore');
  });
});
