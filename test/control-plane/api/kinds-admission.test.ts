// Defaulting and validation of the kinds issue 14 adds (StatefulSet, CronJob, ...), as the real server words
// them: int32 ranges, field causes, fields fixed after creation, the scale subresource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApi, type TestApi } from '../support/test-api.js';

const STS = '/apis/apps/v1/namespaces/default/statefulsets';
const CRON = '/apis/batch/v1/namespaces/default/cronjobs';
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

  const aCronJob = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'registry.local/app:1.0' }] } } } }, ...spec },
  });

  it('defaults and validates a CronJob', async () => {
    const ok = await send('POST', CRON, aCronJob('tick', { timeZone: 'Europe/Berlin' }));
    expect(ok.status).toBe(201);
    expect(ok.body.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(ok.body.spec.jobTemplate.spec.template.spec).toMatchObject({ dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 });
    const bad = await send('POST', CRON, aCronJob('x'.repeat(53), {
      schedule: '* * * * * *', timeZone: 'Mars/Olympus', concurrencyPolicy: 'Sometimes', startingDeadlineSeconds: -1,
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'i' }] } } } },
    }));
    expect(bad.status).toBe(422);
    expect(causesOf(bad.body)).toEqual(expect.arrayContaining([
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
      'spec.schedule: Invalid value: "* * * * * *": expected exactly 5 fields, found 6: [* * * * * *]',
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]));
    const ranged = await send('POST', CRON, aCronJob('ranged', { successfulJobsHistoryLimit: 2 ** 31, failedJobsHistoryLimit: -(2 ** 31) - 1, startingDeadlineSeconds: 2 ** 63 }));
    expect(causesOf(ranged.body)).toEqual(expect.arrayContaining([
      'spec.successfulJobsHistoryLimit: Invalid value: 2147483648: spec.successfulJobsHistoryLimit in body should be less than or equal to 2147483647',
      'spec.failedJobsHistoryLimit: Invalid value: -2147483649: spec.failedJobsHistoryLimit in body should be greater than or equal to -2147483648',
      'spec.startingDeadlineSeconds: Invalid value: 9223372036854776000: spec.startingDeadlineSeconds in body should be less than or equal to 9223372036854775807',
    ]));
    expect((await send('POST', CRON, aCronJob('tz', { schedule: 'TZ=UTC * * * * *' }))).status).toBe(422);
  });

  it('validates a PodDisruptionBudget and range-checks its int-or-strings', async () => {
    const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
    const pdb = (spec: Record<string, unknown>) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
    const both = await send('POST', PDBS, pdb({ minAvailable: 1, maxUnavailable: '10%' }));
    expect(both.status).toBe(422);
    expect(both.body.message).toContain('minAvailable and maxUnavailable cannot be both set');
    const bad = await send('POST', PDBS, pdb({ minAvailable: '150%', unhealthyPodEvictionPolicy: 'Never' }));
    expect(causesOf(bad.body)).toEqual(expect.arrayContaining([
      'spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "IfHealthyBudget", "AlwaysAllow"',
    ]));
    expect((await send('POST', PDBS, pdb({ maxUnavailable: 2 ** 31 }))).status).toBe(422);
    expect((await send('POST', PDBS, pdb({ maxUnavailable: 1 }))).status).toBe(201);
  });
});
