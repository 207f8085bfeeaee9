// Defaulting of apps/v1 and batch/v1 workloads as the real API server does it (apps/v1 and batch/v1 SetDefaults_*).
import type { CronJob } from './kinds/cronjobs.js';
import type { StatefulSet } from './kinds/statefulsets.js';
import type { DaemonSet, Deployment, Job, PodTemplateSpec, ReplicaSet } from './kinds/workloads.js';
import { defaultPodSpec } from './pod-defaults.js';

export const jobControllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
/** Legacy label names the real server still adds next to the batch.kubernetes.io/ ones. */
export const legacyJobControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';

export function defaultTemplate(template: PodTemplateSpec | undefined): void {
  if (!template || typeof template !== 'object') return;
  template.metadata ??= {};
  // The real server serialises an unset template creationTimestamp as null; clients compare templates with it.
  if (template.metadata.creationTimestamp === undefined) template.metadata.creationTimestamp = null;
  if (template.spec && typeof template.spec === 'object') defaultPodSpec(template.spec);
}

export function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= {} as Deployment['spec']);
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultTemplate(spec.template);
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= {} as ReplicaSet['spec']);
  spec.replicas ??= 1;
  defaultTemplate(spec.template);
}

export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = (ds.spec ??= {} as DaemonSet['spec']);
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultTemplate(spec.template);
}

export function defaultStatefulSet(sts: StatefulSet): void {
  const spec = (sts.spec ??= {} as StatefulSet['spec']);
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') (strategy.rollingUpdate ??= {}).partition ??= 0;
  spec.revisionHistoryLimit ??= 10;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ??= 'Retain';
  retention.whenScaled ??= 'Retain';
  for (const t of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
    if (!t || typeof t !== 'object') continue;
    t.apiVersion ??= 'v1';
    t.kind ??= 'PersistentVolumeClaim';
    if (t.spec && typeof t.spec === 'object') t.spec.volumeMode ??= 'Filesystem';
    t.status ??= { phase: 'Pending' };
  }
  defaultTemplate(spec.template);
}

/**
 * batch/v1 Job defaults plus the selector generation of the job strategy (PrepareForCreate): unless
 * manualSelector, the selector is the controller-uid label and the template gets the uid/name labels.
 */
export function defaultJob(job: Job): void {
  const spec = (job.spec ??= {} as Job['spec']);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  if (spec.backoffLimitPerIndex === undefined) spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  defaultTemplate(spec.template);
  const uid = job.metadata.uid;
  if (spec.manualSelector !== true && !spec.selector && uid && spec.template && typeof spec.template === 'object') {
    const meta = (spec.template.metadata ??= {});
    meta.labels = {
      ...meta.labels,
      [jobControllerUidLabel]: uid, [jobNameLabel]: job.metadata.name ?? '',
      [legacyJobControllerUidLabel]: uid, [legacyJobNameLabel]: job.metadata.name ?? '',
    };
    spec.selector = { matchLabels: { [jobControllerUidLabel]: uid } };
  }
  // batch/v1 defaults a Job's own labels to its template's (the real server even shares the map).
  if (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0) {
    const templateLabels = spec.template?.metadata?.labels;
    if (templateLabels && Object.keys(templateLabels).length) job.metadata.labels = { ...templateLabels };
  }
}

/** batch/v1 CronJob defaults; the job template's pod spec is defaulted as a Job's is. */
export function defaultCronJob(cj: CronJob): void {
  const spec = (cj.spec ??= {} as CronJob['spec']);
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  const jobTemplate = spec.jobTemplate;
  if (jobTemplate && typeof jobTemplate === 'object') {
    jobTemplate.metadata ??= {};
    if (jobTemplate.metadata.creationTimestamp === undefined) jobTemplate.metadata.creationTimestamp = null;
    if (jobTemplate.spec && typeof jobTemplate.spec === 'object') defaultTemplate(jobTemplate.spec.template);
  }
}
