// PriorityClass over the API: the system classes every cluster has (undeletable), validation and the
// one-global-default rule worded like the real server, and the Priority admission plugin resolving
// a new pod's spec.priority and spec.preemptionPolicy from its class (or the default, or 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, tableAccept, type TestApi } from '../support/test-api.js';

const PCS = '/apis/scheduling.k8s.io/v1/priorityclasses';
const PODS = '/api/v1/namespaces/default/pods';
type Status = { code: number; reason: string; message: string; details?: { causes?: Array<{ field: string; reason: string; message: string }> } };

const aClass = (name: string, value: number, more: Record<string, unknown> = {}) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...more });
const aPod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }], ...spec },
});

describe('PriorityClass and pod priority admission', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await api.call(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
    return { status: res.status, body: await res.json() as Status & Record<string, any> };
  };

  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('serves the system classes, which cannot be deleted or imitated', async () => {
    const list = await send('GET', PCS);
    expect(list.status).toBe(200);
    expect(list.body['items'].map((c: any) => [c.metadata.name, c.value, c.preemptionPolicy])).toEqual([
      ['system-cluster-critical', 2000000000, 'PreemptLowerPriority'], ['system-node-critical', 2000001000, 'PreemptLowerPriority'],
    ]);
    const del = await send('DELETE', `${PCS}/system-node-critical`);
    expect(del.status).toBe(403);
    expect(del.body.message).toBe('priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted');
    const fake = await send('POST', PCS, aClass('system-mine', 10));
    expect(fake.status).toBe(422);
    expect(fake.body.details?.causes).toEqual([{ field: 'metadata.name', reason: 'FieldValueForbidden',
      message: "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class" }]);
  });

  it('validates values and policies, keeps value immutable, and allows one global default', async () => {
    const big = await send('POST', PCS, aClass('huge', 1_000_000_001));
    expect(big.status).toBe(422);
    expect(big.body.details?.causes?.[0]).toMatchObject({ field: 'value', message: 'Forbidden: maximum allowed value of a user defined priority is 1000000000' });
    const policy = await send('POST', PCS, aClass('odd', 5, { preemptionPolicy: 'Sometimes' }));
    expect(policy.status).toBe(422);
    expect(policy.body.details?.causes?.[0]).toMatchObject({ field: 'preemptionPolicy', reason: 'FieldValueNotSupported' });
    expect((await send('POST', PCS, aClass('missing', undefined as never))).status).toBe(422);
    const overflow = await send('POST', PCS, aClass('overflow', 2 ** 31));
    expect(overflow.status).toBe(422);
    expect(overflow.body.details?.causes?.[0]?.field).toBe('value');

    const low = await send('POST', PCS, aClass('low', -10, { globalDefault: true }));
    expect(low.status).toBe(201);
    expect(low.body).toMatchObject({ value: -10, globalDefault: true, preemptionPolicy: 'PreemptLowerPriority' });
    const second = await send('POST', PCS, aClass('other-default', 7, { globalDefault: true }));
    expect(second.status).toBe(403);
    expect(second.body.message).toBe('priorityclasses.scheduling.k8s.io "other-default" is forbidden: PriorityClass low is already marked as default. Only one default can exist');
    expect((await send('POST', PCS, aClass('high', 1000, { description: 'important' }))).status).toBe(201);
    const marked = await send('PATCH', `${PCS}/high`, { globalDefault: true }, 'application/merge-patch+json');
    expect(marked.status).toBe(403);
    const changed = await send('PATCH', `${PCS}/high`, { value: 1001 }, 'application/merge-patch+json');
    expect(changed.status).toBe(422);
    expect(changed.body.details?.causes).toEqual([{ field: 'value', reason: 'FieldValueForbidden', message: 'Forbidden: may not be changed in an update.' }]);
    expect((await send('PATCH', `${PCS}/high`, { description: 'very important' }, 'application/merge-patch+json')).status).toBe(200);

    const table = await api.call('GET', `${PCS}/high`, { accept: tableAccept });
    const t = await table.json() as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
    expect(t.rows[0]?.cells).toEqual(['high', 1000, false, expect.any(String), 'PreemptLowerPriority']);
  });

  it('resolves pod priority from the class, the global default, or refuses', async () => {
    const named = await send('POST', PODS, aPod('named', { priorityClassName: 'high' }));
    expect(named.body.message).toBeUndefined();
    expect(named.status).toBe(201);
    expect(named.body['spec']).toMatchObject({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    const byDefault = await send('POST', PODS, aPod('defaulted'));
    expect(byDefault.body['spec']).toMatchObject({ priorityClassName: 'low', priority: -10 });
    const system = await send('POST', PODS, aPod('critical', { priorityClassName: 'system-cluster-critical' }));
    expect(system.body['spec'].priority).toBe(2000000000);

    const unknown = await send('POST', PODS, aPod('unknown', { priorityClassName: 'nope' }));
    expect(unknown.status).toBe(403);
    expect(unknown.body.message).toBe('pods "unknown" is forbidden: no PriorityClass with name nope was found');
    const forged = await send('POST', PODS, aPod('forged', { priorityClassName: 'high', priority: 2000000000 }));
    expect(forged.status).toBe(403);
    expect(forged.body.message).toBe('pods "forged" is forbidden: the integer value of priority (2000000000) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    const policy = await send('POST', PODS, aPod('policy', { priorityClassName: 'high', preemptionPolicy: 'Never' }));
    expect(policy.status).toBe(403);
    expect(policy.body.message).toContain('the string value of PreemptionPolicy (Never) must not be provided in pod spec');

    // a PUT of the pod without the admitted fields keeps them; changing them is refused
    const current = (await send('GET', `${PODS}/named`)).body as any;
    const { priority: _p, preemptionPolicy: _pp, ...rest } = current.spec;
    const put = await send('PUT', `${PODS}/named`, { ...current, metadata: { ...current.metadata, labels: { a: 'b' } }, spec: rest });
    expect(put.status).toBe(200);
    expect(put.body['spec'].priority).toBe(1000);
    expect((await send('PATCH', `${PODS}/named`, { spec: { priority: 5 } }, 'application/merge-patch+json')).status).toBe(422);
  });

  it('decodes kubectl create priorityclass protobuf', async () => {
    const field = (n: number, bytes: number[]) => [(n << 3) | 2, bytes.length, ...bytes];
    const text = (s: string) => [...Buffer.from(s)];
    const raw = [...field(1, field(1, text('proto'))), (2 << 3) | 0, 0, (3 << 3) | 0, 0, ...field(4, text('from kubectl')), ...field(5, text('Never'))];
    const typeMeta = [...field(1, text('scheduling.k8s.io/v1')), ...field(2, text('PriorityClass'))];
    const body = Buffer.from([0x6b, 0x38, 0x73, 0x00, ...field(1, typeMeta), ...field(2, raw)]);
    const res = await api.app.request(PCS, { method: 'POST', headers: { authorization: 'Bearer test-token', 'content-type': 'application/vnd.kubernetes.protobuf' }, body });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ metadata: { name: 'proto' }, value: 0, description: 'from kubectl', preemptionPolicy: 'Never' });
  });
});
