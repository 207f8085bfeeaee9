// Pure rules (as the kubelet applies them) for a pod's phase, conditions and restart decisions.
import type { Condition } from '../../api/types/meta.js';
import type { ContainerState, PodPhase, RestartPolicy } from '../../api/types/pod.js';

export interface SlotView {
  state: ContainerState;
  /** The container will not run again (by restart policy, or the pod is terminating). */
  finished: boolean;
  ready: boolean;
  /** An init container with restartPolicy Always: it counts as initialised once started, and runs on. */
  sidecar?: boolean;
  /** It has started at least once. */
  started?: boolean;
}

/** An init container no longer holding the pod back: completed, or a sidecar that has started. */
const initDone = (s: SlotView) => (s.sidecar ? !!s.started : s.finished && s.state.terminated?.exitCode === 0);

/** Whether a container that exited with `exitCode` starts again under `policy`. */
export const shouldRestart = (policy: RestartPolicy, exitCode: number): boolean =>
  policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);

/** Restart delay after the n-th consecutive failure: 0, then 10 s doubling up to 5 min. */
export function restartDelayMs(restartCount: number, baseMs = 10_000, maxMs = 300_000): number {
  if (restartCount <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** (restartCount - 1));
}

export function podPhase(init: SlotView[], app: SlotView[]): PodPhase {
  const failedInit = init.find((s) => !s.sidecar && s.finished && (s.state.terminated?.exitCode ?? 0) !== 0);
  if (failedInit) return 'Failed';
  if (!init.every(initDone)) return 'Pending';
  if (app.length > 0 && app.every((s) => s.finished && s.state.terminated)) {
    return app.every((s) => s.state.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  // Running once every container has been created: running, or exited and waiting to restart.
  if (app.every((s) => s.state.running || s.state.terminated || s.state.waiting?.reason === 'CrashLoopBackOff')) return 'Running';
  return 'Pending';
}

export function podConditions(init: SlotView[], app: SlotView[], now: string, previous: Condition[] = []): Condition[] {
  const initialized = init.every(initDone);
  const containersReady = app.length > 0 && app.every((s) => s.ready);
  const completed = app.length > 0 && app.every((s) => s.finished && s.state.terminated);
  const notReady = completed ? 'PodCompleted' : 'ContainersNotReady';
  const wanted: Array<[string, boolean, string | undefined]> = [
    ['PodReadyToStartContainers', true, undefined],
    ['Initialized', initialized, 'ContainersNotInitialized'],
    ['Ready', containersReady, notReady],
    ['ContainersReady', containersReady, notReady],
    ['PodScheduled', true, undefined],
  ];
  return wanted.map(([type, ok, reason]) => {
    const status = ok ? 'True' : 'False';
    const before = previous.find((c) => c.type === type);
    const condition: Condition = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: before && before.status === status ? before.lastTransitionTime! : now,
    };
    if (reason && !ok) condition.reason = reason;
    return condition;
  });
}
