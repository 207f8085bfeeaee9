import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../api/errors.js';
import type { DaemonSet, Deployment, Job, ReplicaSet } from '../../../control-plane/resources/kinds/workloads.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aDeployment, aJob } from '../support/sample-objects.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const { deployments, jobs, replicasets, daemonsets } = resourceTypes;
let t: TestResources;
beforeEach(async () => { t = await openTestResources(); });
afterEach(async () => { await t.close(); });

const invalidCauses = async (p: Promise<unknown>) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).causes.map((c) => `${c.field}: ${c.message}`);
};

describe('Deployment', () => {
  it('defaults replicas, strategy 25%/25%, history, progress deadline and the pod template', async () => {
    const d = await t.resources.create<Deployment>(deployments, aDeployment('web'));
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    const spec = d.spec.template.spec;
    expect(spec.restartPolicy).toBe('Always');
    expect(spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(spec.tolerations).toBeUndefined();
    expect(d.spec.template.metadata?.creationTimestamp).toBeNull();
  });

  it('rejects a selector that does not match the template labels, and a missing image', async () => {
    const d = aDeployment('web');
    d.spec.selector = { matchLabels: { app: 'other' } };
    d.spec.template.spec.containers[0]!.image = '';
    expect(await invalidCauses(t.resources.create(deployments, d))).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
      'spec.template.spec.containers[0].image: Required value',
    ]);
  });

  it('rejects negative replicas and a zero surge with zero unavailable', async () => {
    const d = aDeployment('web', { replicas: -1 });
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } };
    const causes = await invalidCauses(t.resources.create(deployments, d));
    expect(causes).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(causes).toContain('spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0');
  });

  it('keeps the selector immutable and bumps generation only on spec changes', async () => {
    const d = await t.resources.create<Deployment>(deployments, aDeployment('web'));
    const relabelled = await t.resources.update(deployments, { ...d, metadata: { ...d.metadata, labels: { team: 'a' } } });
    expect(relabelled.metadata.generation).toBe(1);
    const scaled = await t.resources.update(deployments, { ...relabelled, spec: { ...relabelled.spec, replicas: 3 } });
    expect(scaled.metadata.generation).toBe(2);
    const moved = structuredClone(scaled);
    moved.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
    moved.spec.template.metadata!.labels = { app: 'web', tier: 'x' };
    expect((await invalidCauses(t.resources.update(deployments, moved)))[0]).toMatch(/^spec.selector: Invalid value: .*: field is immutable$/);
  });

  it('keeps status on main-resource writes and takes it through the status subresource', async () => {
    const d = await t.resources.create<Deployment>(deployments, aDeployment('web'));
    const withStatus = await t.resources.update(deployments, { ...d, status: { replicas: 1, observedGeneration: 1 } }, { subresource: 'status' });
    expect(withStatus.status?.observedGeneration).toBe(1);
    const ignored = await t.resources.update(deployments, { ...withStatus, status: { replicas: 9 } });
    expect(ignored.status?.replicas).toBe(1);
  });
});

describe('ReplicaSet and DaemonSet', () => {
  it('default replicas and the daemonset update strategy', async () => {
    const base = aDeployment('web');
    const rs = await t.resources.create<ReplicaSet>(replicasets, { ...base, apiVersion: 'apps/v1', kind: 'ReplicaSet', spec: { selector: base.spec.selector, template: base.spec.template } } as ReplicaSet);
    expect(rs.spec.replicas).toBe(1);
    const ds = await t.resources.create<DaemonSet>(daemonsets, { ...base, apiVersion: 'apps/v1', kind: 'DaemonSet', spec: { selector: base.spec.selector, template: base.spec.template } } as DaemonSet);
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
  });
});

describe('Job', () => {
  it('generates the controller-uid selector and labels like the real server', async () => {
    const job = await t.resources.create<Job>(jobs, aJob('pi'));
    const uid = job.metadata.uid!;
    expect(job.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    const expected = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
    expect(job.spec.template.metadata?.labels).toEqual(expected);
    expect(job.metadata.labels).toEqual(expected);
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false });
  });

  it('leaves completions unset when only parallelism is given', async () => {
    const input = aJob('work');
    input.spec.parallelism = 3;
    const job = await t.resources.create<Job>(jobs, input);
    expect(job.spec.completions).toBeUndefined();
    expect(job.spec.parallelism).toBe(3);
  });

  it('rejects restartPolicy Always (the template default) and a manual selector that is missing', async () => {
    const input = aJob('bad');
    delete input.spec.template.spec.restartPolicy;
    expect(await invalidCauses(t.resources.create(jobs, input))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    const manual = aJob('manual');
    manual.spec.manualSelector = true;
    expect(await invalidCauses(t.resources.create(jobs, manual))).toEqual(['spec.selector: Required value']);
  });

  it('keeps the template immutable', async () => {
    const job = await t.resources.create<Job>(jobs, aJob('pi'));
    const changed = structuredClone(job);
    changed.spec.template.spec.containers[0]!.image = 'registry.local/task:2.0';
    expect((await invalidCauses(t.resources.update(jobs, changed)))[0]).toMatch(/^spec.template: Invalid value: .*: field is immutable$/);
  });
});
