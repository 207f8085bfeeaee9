// How controllers write many objects: a bounded number at once, giving the event loop back between
// steps (flow-control/event-loop-turns.ts), and creates in slow-start batches as kube's ReplicaSet,
// Job and DaemonSet controllers do (docs/decisions/010-bounded-controller-bursts.md).
import { yieldIfBusy } from '../flow-control/event-loop-turns.js';

/** The most pods one Job sync creates or deletes (kube's MaxPodCreateDeletePerSync; ReplicaSets: BURST_REPLICAS). */
export const MAX_JOB_POD_WRITES_PER_SYNC = 500;
/** The same bound for a DaemonSet (kube's DaemonSet controller's burstReplicas). */
export const MAX_DAEMON_POD_WRITES_PER_SYNC = 250;

/** Runs `work` over `items` with at most `limit` at a time; returns the errors. */
export async function inBatches<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<Error[]> {
  const errors: Error[] = [];
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      await yieldIfBusy();
      if (next >= items.length) return;
      const item = items[next++]!;
      await work(item).catch((e: Error) => errors.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return errors;
}

export interface SlowStartResult {
  /** Calls that succeeded. */
  succeeded: number;
  /** The first error of the batch that failed; the batches after it were not started. */
  error?: Error;
  /** Calls never made because a batch failed. */
  skipped: number;
}

/**
 * Calls `work` for each item in batches of 1, 2, 4, ... (kube's slowStartBatch): a batch starts only
 * when the one before succeeded entirely, so a template every create rejects costs one call, not
 * thousands. Within a batch at most `parallelism` calls run at once.
 */
export async function slowStartBatch<T>(items: readonly T[], work: (item: T) => Promise<unknown>, parallelism = 16): Promise<SlowStartResult> {
  let done = 0;
  let succeeded = 0;
  for (let size = 1; done < items.length; size *= 2) {
    const batch = items.slice(done, done + size);
    const errors = await inBatches(batch, parallelism, work);
    done += batch.length;
    succeeded += batch.length - errors.length;
    if (errors.length) return { succeeded, error: errors[0]!, skipped: items.length - done };
  }
  return { succeeded, skipped: 0 };
}
