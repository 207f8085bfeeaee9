// Defaulting and validation of the kinds issue 14 adds (StatefulSet, ...), as the real server words
// them: int32 ranges, field causes, fields fixed after creation, the scale subresource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

const STS = '/apis/apps/v1/namespaces/default/statefulsets';
type Status = { code: number; message: string; details?: { causes?: Array<{ field: string; message: string }> } };

const aStatefulSet = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
  spec: {
    serviceName: name, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
});

describe('admission of the everyday kinds', () => {
  let api: TestApi;
  const send = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await api.call(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
    return { status: res.status, body: await res.json() as Status & Record<string, any> };
  };
  const causesOf = (body: Status) => body.details?.causes?.map((c) => `${c.field}: ${c.message}`) ?? [];

  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('defaults a StatefulSet as apps/v1 does', async () => {
    const res = await send('POST', STS, aStatefulSet('web'));
    expect(res.status).toBe(201);
    expect(res.body.spec).toMatchObject({
      replicas: 1, podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(res.body.spec.volumeClaimTemplates[0]).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
  });

  it('range-checks every int32 field of a StatefulSet', async () => {
    const res = await send('POST', STS, aStatefulSet('ranged', {
      replicas: 2 ** 31, minReadySeconds: -(2 ** 31) - 1, revisionHistoryLimit: 2 ** 32, ordinals: { start: 2 ** 31 },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 ** 31 } },
    }));
    expect(res.status).toBe(422);
    expect(causesOf(res.body)).toEqual(expect.arrayContaining([
      'spec.replicas: Invalid value: 2147483648: spec.replicas in body should be less than or equal to 2147483647',
      'spec.minReadySeconds: Invalid value: -2147483649: spec.minReadySeconds in body should be greater than or equal to -2147483648',
      'spec.revisionHistoryLimit: Invalid value: 4294967296: spec.revisionHistoryLimit in body should be less than or equal to 2147483647',
      'spec.ordinals.start: Invalid value: 2147483648: spec.ordinals.start in body should be less than or equal to 2147483647',
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: 2147483648: spec.updateStrategy.rollingUpdate.partition in body should be less than or equal to 2147483647',
    ]));
  });

  it('validates a StatefulSet with field causes', async () => {
    const res = await send('POST', STS, aStatefulSet('bad', {
      replicas: -1, podManagementPolicy: 'Sometimes', selector: { matchLabels: { app: 'other' } },
      updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Never' },
      volumeClaimTemplates: [{ metadata: { name: 'Data..' }, spec: { accessModes: ['ReadWriteOnce'], resources: {} } }],
    }));
    expect(res.status).toBe(422);
    const causes = causesOf(res.body);
    expect(causes).toEqual(expect.arrayContaining([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.metadata.labels: Invalid value: {"app":"bad"}: `selector` does not match template `labels`',
      'spec.podManagementPolicy: Unsupported value: "Sometimes": supported values: "OrderedReady", "Parallel"',
      expect.stringMatching(/^spec\.updateStrategy\.rollingUpdate: Invalid value: .*only allowed for updateStrategy 'RollingUpdate'$/),
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Never": supported values: "Retain", "Delete"',
      expect.stringMatching(/^spec\.volumeClaimTemplates\[0\]\.metadata\.name: Invalid value: "Data\.\.": /),
      expect.stringMatching(/^spec\.volumeClaimTemplates\[0\]\.spec\.resources\[storage\]: Required value/),
    ]));
  });

  it('allows only replicas, template, updateStrategy and friends to change', async () => {
    const changed = await send('PATCH', `${STS}/web`, { spec: { serviceName: 'other' } }, 'application/merge-patch+json');
    expect(changed.status).toBe(422);
    expect(changed.body.message).toContain("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy'");
    const ok = await send('PATCH', `${STS}/web`, { spec: { replicas: 3, updateStrategy: { rollingUpdate: { partition: 2 } } } }, 'application/merge-patch+json');
    expect(ok.status).toBe(200);
    expect(ok.body.spec.updateStrategy.rollingUpdate.partition).toBe(2);
  });

  it('serves the scale subresource of a StatefulSet', async () => {
    const scale = await send('GET', `${STS}/web/scale`);
    expect(scale.body).toMatchObject({ kind: 'Scale', spec: { replicas: 3 }, status: { selector: 'app=web' } });
    expect((await send('PATCH', `${STS}/web/scale`, { spec: { replicas: 5 } }, 'application/merge-patch+json')).body.spec.replicas).toBe(5);
    expect((await send('PATCH', `${STS}/web/scale`, { spec: { replicas: 2 ** 31 } }, 'application/merge-patch+json')).status).toBe(422);
  });
});
