// Table printers for deployments, replicasets, replicationcontrollers, daemonsets, statefulsets, jobs, cronjobs, controllerrevisions (kubectl's columns).
import type { Container } from '../../../api/types/pod.js';
import type { ControllerRevision, DaemonSet, Deployment, Job, PodTemplateSpec, ReplicaSet, ReplicationController } from '../../resources/kinds/workloads.js';
import type { CronJob } from '../../resources/kinds/cronjobs.js';
import type { StatefulSet } from '../../resources/kinds/statefulsets.js';
import { formatLabelSelector } from '../../resources/selector-object.js';
import { ageOf, humanDuration } from './human-duration.js';
import { ageColumn, column, nameColumn, type KindPrinter, type TableColumn } from './table-column.js';

const templateColumns: TableColumn[] = [
  column('Containers', 'Names of each container in the template.', { priority: 1 }),
  column('Images', 'Images referenced by each container in the template.', { priority: 1 }),
  column('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', { priority: 1 }),
];

function templateCells(template: PodTemplateSpec | undefined, selector: string): string[] {
  const containers: Container[] = template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(','), selector || '<none>'];
}

const selectorText = (s: Parameters<typeof formatLabelSelector>[0]) => formatLabelSelector(s);

export const deploymentPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', { type: 'integer' }),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', { type: 'integer' }),
    ageColumn,
    ...templateColumns,
  ],
  cells(obj, nowMs) {
    const d = obj as Deployment;
    const s = d.status ?? {};
    return [d.metadata.name, `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, s.updatedReplicas ?? 0, s.availableReplicas ?? 0,
      ageOf(d.metadata.creationTimestamp, nowMs), ...templateCells(d.spec?.template, selectorText(d.spec?.selector))];
  },
};

export const replicaSetPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Desired', 'Replicas is the number of desired replicas.', { type: 'integer' }),
    column('Current', 'Replicas is the most recently observed number of replicas.', { type: 'integer' }),
    column('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
    ageColumn,
    ...templateColumns,
  ],
  cells(obj, nowMs) {
    const rs = obj as ReplicaSet;
    return [rs.metadata.name, rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0,
      ageOf(rs.metadata.creationTimestamp, nowMs), ...templateCells(rs.spec?.template, selectorText(rs.spec?.selector))];
  },
};

export const daemonSetPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Desired', 'The total number of nodes that should be running the daemon pod.', { type: 'integer' }),
    column('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', { type: 'integer' }),
    column('Ready', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', { type: 'integer' }),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod', { type: 'integer' }),
    column('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', { type: 'integer' }),
    column('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node\'s labels for the pod to be scheduled on that node.'),
    ageColumn,
    ...templateColumns,
  ],
  cells(obj, nowMs) {
    const ds = obj as DaemonSet;
    const s = ds.status;
    const nodeSelector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    return [ds.metadata.name, s?.desiredNumberScheduled ?? 0, s?.currentNumberScheduled ?? 0, s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0, s?.numberAvailable ?? 0, nodeSelector || '<none>', ageOf(ds.metadata.creationTimestamp, nowMs),
      ...templateCells(ds.spec?.template, selectorText(ds.spec?.selector))];
  },
};

export const statefulSetPrinter: KindPrinter = {
  columns: [nameColumn, column('Ready', 'Number of the pod with ready state'), ageColumn, ...templateColumns.slice(0, 2)],
  cells(obj, nowMs) {
    const sts = obj as StatefulSet;
    return [sts.metadata.name, `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`, ageOf(sts.metadata.creationTimestamp, nowMs),
      ...templateCells(sts.spec?.template, '').slice(0, 2)];
  },
};

/** The Job STATUS column as kubectl 1.32 prints it. */
function jobStatus(job: Job): string {
  const has = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True');
  if (has('Failed')) return 'Failed';
  if (has('Complete')) return 'Complete';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

export const jobPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Status', 'Status of the job.'),
    column('Completions', 'The desired number of successfully finished pods the job should be run with.'),
    column('Duration', 'Time required to complete the job.'),
    ageColumn,
    ...templateColumns,
  ],
  cells(obj, nowMs) {
    const job = obj as Job;
    const parallelism = job.spec?.parallelism ?? 0;
    const completions = job.spec?.completions !== undefined
      ? `${job.status?.succeeded ?? 0}/${job.spec.completions}`
      : `${job.status?.succeeded ?? 0}/1 of ${parallelism}`;
    const start = job.status?.startTime ? Date.parse(job.status.startTime) : undefined;
    const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : nowMs;
    const duration = start === undefined ? '' : humanDuration(end - start);
    return [job.metadata.name, jobStatus(job), completions, duration, ageOf(job.metadata.creationTimestamp, nowMs),
      ...templateCells(job.spec?.template, selectorText(job.spec?.selector))];
  },
};

export const cronJobPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.', { type: 'boolean' }),
    column('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn,
    ...templateColumns,
  ],
  cells(obj, nowMs) {
    const cj = obj as CronJob;
    const last = cj.status?.lastScheduleTime;
    return [cj.metadata.name, cj.spec?.schedule ?? '', cj.spec?.timeZone ?? '<none>', cj.spec?.suspend ? 'True' : 'False', cj.status?.active?.length ?? 0,
      last ? ageOf(last, nowMs) : '<none>', ageOf(cj.metadata.creationTimestamp, nowMs),
      ...templateCells(cj.spec?.jobTemplate?.spec?.template, selectorText(cj.spec?.jobTemplate?.spec?.selector))];
  },
};

export const controllerRevisionPrinter: KindPrinter = {
  columns: [
    nameColumn,
    column('Controller', 'Controller of the object'),
    column('Revision', 'Revision indicates the revision of the state represented by Data.', { type: 'integer' }),
    ageColumn,
  ],
  cells(obj, nowMs) {
    const cr = obj as ControllerRevision;
    const owner = cr.metadata.ownerReferences?.find((o) => o.controller);
    const controller = owner ? `${owner.kind.toLowerCase()}.${owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : ''}/${owner.name}`.replace('./', '/') : '<none>';
    return [cr.metadata.name, controller, cr.revision ?? 0, ageOf(cr.metadata.creationTimestamp, nowMs)];
  },
};

/** kubectl's replicationcontrollers columns: a ReplicaSet's, with the selector as a label map. */
export const replicationControllerPrinter: KindPrinter = {
  columns: replicaSetPrinter.columns,
  cells(obj, nowMs) {
    const rc = obj as ReplicationController;
    return [rc.metadata.name, rc.spec?.replicas ?? 0, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0,
      ageOf(rc.metadata.creationTimestamp, nowMs), ...templateCells(rc.spec?.template, selectorText({ matchLabels: rc.spec?.selector ?? {} }))];
  },
};
