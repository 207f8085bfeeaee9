// Validation of batch/v1 CronJobs (ValidateCronJobCreate/Update): schedule and time zone, policies,
// limits, and the job template (restartPolicy OnFailure or Never, as for Jobs).
import type { StatusCause } from '../../api/errors.js';
import { invalid, notSupported, required } from './field-causes.js';
import { isValidTimeZone, parseSchedule } from './cron-schedule.js';
import type { CronJob } from './kinds/cronjobs.js';
import { nonNegative, validateTemplate } from './workload-validation.js';

/** A CronJob's Jobs are named `<name>-<minutes>` (11 characters more), within the 63 of a label value. */
const MAX_NAME = 52;

export function validateCronJob(cj: CronJob): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = cj.metadata?.name;
  if (typeof name === 'string' && name.length > MAX_NAME) causes.push(invalid('metadata.name', name, `must be no more than ${MAX_NAME} characters`));
  const spec = cj.spec;
  if (!spec || typeof spec !== 'object') return [...causes, required('spec')];
  if (spec.schedule === undefined || spec.schedule === '') causes.push(required('spec.schedule'));
  else {
    const zone = spec.timeZone;
    const parsed = parseSchedule(spec.schedule, zone !== undefined && isValidTimeZone(zone) ? zone : 'UTC');
    if (typeof parsed === 'string') causes.push(invalid('spec.schedule', spec.schedule, parsed));
  }
  if (spec.timeZone !== undefined && !isValidTimeZone(spec.timeZone)) causes.push(invalid('spec.timeZone', spec.timeZone, 'unknown time zone ' + spec.timeZone));
  const policies = ['Allow', 'Forbid', 'Replace'];
  if (spec.concurrencyPolicy !== undefined && !policies.includes(spec.concurrencyPolicy)) {
    causes.push(notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, policies));
  }
  causes.push(...nonNegative('spec.startingDeadlineSeconds', spec.startingDeadlineSeconds),
    ...nonNegative('spec.successfulJobsHistoryLimit', spec.successfulJobsHistoryLimit),
    ...nonNegative('spec.failedJobsHistoryLimit', spec.failedJobsHistoryLimit));
  const jobSpec = spec.jobTemplate?.spec;
  if (!jobSpec || typeof jobSpec !== 'object') return [...causes, required('spec.jobTemplate.spec')];
  const prefix = (c: StatusCause) => (c.field ? { ...c, field: c.field.replace(/^spec\./, 'spec.jobTemplate.spec.') } : c);
  causes.push(...[
    ...nonNegative('spec.parallelism', jobSpec.parallelism), ...nonNegative('spec.completions', jobSpec.completions),
    ...nonNegative('spec.backoffLimit', jobSpec.backoffLimit), ...nonNegative('spec.ttlSecondsAfterFinished', jobSpec.ttlSecondsAfterFinished),
  ].map(prefix));
  if (!jobSpec.template || typeof jobSpec.template !== 'object') causes.push(required('spec.jobTemplate.spec.template'));
  else {
    causes.push(...validateTemplate(jobSpec.template, ['OnFailure', 'Never']).map(prefix));
    if (jobSpec.template.spec && jobSpec.template.spec.restartPolicy === undefined) {
      causes.push(required('spec.jobTemplate.spec.template.spec.restartPolicy'));
    }
  }
  return causes;
}
