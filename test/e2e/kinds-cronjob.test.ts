// CronJob end to end with the real kubectl: created by `kubectl create cronjob` (a protobuf body),
// printed with kubectl's columns, run by hand with `kubectl create job --from=cronjob/x`, firing on
// its every-minute schedule on the real clock, then suspended.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushComponent } from '../../cli/push-command.js';
import type { CronJob, Job } from '../../control-plane/controllers/workload-kinds.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const BATCH = '/apis/batch/v1/namespaces/default';

describe.skipIf(!hasTool('kubectl', 'CronJob e2e'))('CronJobs with the real kubectl', () => {
  let cluster: Cluster;
  const kubectl = async (...args: string[]) => {
    const { stdout } = await run(TOOL_PATHS.kubectl, args, { env: { PATH: process.env['PATH'], HOME: cluster.dataDir, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 120_000 });
    return stdout;
  };

  beforeAll(async () => {
    cluster = await startCluster({ agents: 1 });
    await pushComponent(cluster.cp.kubeconfigPath, 'wasm-examples/hello/hello.wasm', 'examples/hello:latest');
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs a CronJob by hand and on its schedule, keeps its status, and stops when suspended', async () => {
    expect(await kubectl('create', 'cronjob', 'tick', '--image=examples/hello:latest', '--schedule=* * * * *', '--restart=Never')).toContain('cronjob.batch/tick created');
    const created = JSON.parse(await kubectl('get', 'cronjob', 'tick', '-o', 'json')) as CronJob;
    expect(created.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(await kubectl('get', 'cronjob', 'tick')).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ntick\s+\* \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/);

    expect(await kubectl('create', 'job', 'by-hand', '--from=cronjob/tick')).toContain('job.batch/by-hand created');
    await kubectl('wait', '--for=condition=complete', 'job/by-hand', '--timeout=60s');
    const byHand = JSON.parse(await kubectl('get', 'job', 'by-hand', '-o', 'json')) as Job;
    expect(byHand.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(byHand.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', uid: created.metadata.uid });

    // the next minute boundary starts one Job named by its minute
    const scheduled = await waitFor<Job>(cluster.client, `${BATCH}/jobs`, (e) => e.object.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] !== undefined, 75_000);
    expect(scheduled.metadata.name).toMatch(/^tick-\d+$/);
    const minute = Number(scheduled.metadata.name!.slice('tick-'.length));
    expect(scheduled.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(minute * 60_000).toISOString().replace('.000Z', 'Z'));
    await kubectl('wait', '--for=condition=complete', `job/${scheduled.metadata.name}`, '--timeout=60s');
    const done = await waitFor<CronJob>(cluster.client, `${BATCH}/cronjobs?fieldSelector=metadata.name%3Dtick`, (e) => e.object.status?.lastSuccessfulTime !== undefined && !e.object.status.active, 30_000);
    expect(done.status?.lastScheduleTime).toBe(scheduled.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    expect(await kubectl('get', 'cronjob', 'tick')).toMatch(/\ntick\s+\* \* \* \* \*\s+<none>\s+False\s+0\s+\d+s\s+/);

    await kubectl('patch', 'cronjob/tick', '-p', '{"spec":{"suspend":true}}');
    expect(await kubectl('get', 'cronjob', 'tick')).toMatch(/\ntick\s+\* \* \* \* \*\s+<none>\s+True\s+/);
    // deleting the CronJob takes its Jobs with it
    await kubectl('delete', 'cronjob/tick');
    await kubectl('wait', '--for=delete', 'job/by-hand', `job/${scheduled.metadata.name}`, '--timeout=60s');
  }, 240_000);
});
