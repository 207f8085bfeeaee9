// Waiting between a container's attempts, as the kubelet does: CrashLoopBackOff after runs that
// ended (10 s doubling to 5 min, reset after 10 min of running), ImagePullBackOff after pull errors.
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { ContainerSlot } from './container-slot.js';
import { restartDelayMs } from './pod-phase.js';

/** How long a container must run before its crash-loop back-off starts over. */
const BACKOFF_RESET_MS = 10 * 60_000;

export interface BackoffContext {
  clock: Clock;
  /** The pod's pending timers: cancelled when it terminates. */
  pending: Set<ClockTimer>;
  onEvent(type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
  /** `name_namespace(uid)`, as the kubelet names a pod in its messages. */
  podRef: string;
  report(): void;
}

/** Updates the slot's state for the wait, reports it, and resolves when the next attempt may start. */
export function backOff(slot: ContainerSlot, ctx: BackoffContext): Promise<void> {
  const pulling = slot.state.waiting !== undefined; // it never started this round
  if (pulling && slot.retrySoon) {
    // what it waited for may have come with a desired state that arrived before this back-off
    slot.retrySoon = false;
    return Promise.resolve();
  }
  let delayMs: number;
  if (pulling) {
    delayMs = restartDelayMs(slot.pullFailures);
  } else {
    if ((slot.lastRunMs ?? 0) >= BACKOFF_RESET_MS) slot.crashes = 0;
    delayMs = restartDelayMs(slot.crashes);
    slot.crashes++;
  }
  if (delayMs === 0) {
    slot.restartCount++;
    return Promise.resolve();
  }
  const { podRef } = ctx;
  if (pulling) {
    const reason = slot.state.waiting?.reason === 'ErrImagePull' ? 'ImagePullBackOff' : slot.state.waiting!.reason!;
    slot.state = { waiting: { reason, message: slot.state.waiting?.message ?? reason } };
    // config and volume waits (CreateContainerConfigError, ContainerCreating) already had their event
    if (reason === 'ImagePullBackOff') ctx.onEvent('Normal', 'BackOff', `Back-off pulling image "${slot.spec.image}"`, slot.fieldPath);
  } else {
    slot.lastState = slot.state;
    slot.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${slot.name} pod=${podRef}` } };
    ctx.onEvent('Warning', 'BackOff', `Back-off restarting failed container ${slot.name} in pod ${podRef}`, slot.fieldPath);
  }
  ctx.report();
  return new Promise((resolve) => {
    const done = () => {
      timer.cancel();
      ctx.pending.delete(timer);
      slot.retryNow = undefined;
      if (!pulling) slot.restartCount++;
      resolve();
    };
    const timer = ctx.clock.setTimeout(done, delayMs);
    ctx.pending.add(timer);
    slot.retryNow = done;
  });
}
