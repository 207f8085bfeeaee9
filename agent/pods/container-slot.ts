// The kubelet's view of one container of a pod: its spec, current and last state, restarts, logs.
import type { Container, ContainerState, ContainerStatus } from '../../api/types/pod.js';
import { rfc3339 } from '../../api/clock.js';
import type { ContainerExit, LoadedComponent, RunningContainer } from '../../runtime/pod-runtime.js';
import type { LogBuffer } from '../log-buffer.js';
import type { SlotView } from './pod-phase.js';

export class ContainerSlot {
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState = {};
  restartCount = 0;
  /** Consecutive crashes, for the back-off (reset after a long run). */
  crashes = 0;
  pullFailures = 0;
  ready = false;
  finished = false;
  imageID = '';
  component: LoadedComponent | undefined;
  componentImage: string | undefined;
  running: RunningContainer | undefined;
  lastRunMs: number | undefined;
  previousLogs: LogBuffer | undefined;
  /** The probes of the current run (container-probes.ts). */
  probes: { stop(): void } | undefined;
  /** False while the current run waits for its startup probe. */
  startupDone = true;
  /** The current run was killed by a failed startup or liveness probe (a failure whatever its exit code). */
  probeKilled = false;
  /** Cuts a back-off short (set while waiting). */
  retryNow: (() => void) | undefined;
  /** A retry was asked for before the back-off began: the next pull/config/volume back-off is skipped. */
  retrySoon = false;

  /** Retries a waiting container now, or as soon as it starts waiting (a newer desired state came). */
  retry(): void {
    if (this.retryNow) this.retryNow();
    else this.retrySoon = true;
  }
  #runs = 0;
  #settle: (() => void) | undefined;
  /** Resolves when the current run has been fully recorded. */
  settled: Promise<void> = Promise.resolve();

  logs: LogBuffer;
  /** `kubectl attach` sessions: every chunk the current run writes, as it is written. */
  readonly attached = new Set<(stream: 'stdout' | 'stderr', chunk: Uint8Array) => void>();

  constructor(public spec: Container, readonly init: boolean, private readonly makeLogs: () => LogBuffer) {
    this.logs = makeLogs();
  }

  /** A sidecar: an init container with restartPolicy Always (starts before the app, stays up). */
  get sidecar(): boolean {
    return this.init && this.spec.restartPolicy === 'Always';
  }

  /** Set on the first start (sidecars unblock the next init container then). */
  started = false;
  /** The pod's app containers have all finished: this sidecar is stopped, not restarted. */
  sidecarDone = false;
  #onFirstStart: Array<() => void> = [];

  /** Resolves at the first start (or at once if it has started). */
  firstStart(): Promise<void> {
    if (this.started) return Promise.resolve();
    return new Promise((resolve) => this.#onFirstStart.push(resolve));
  }

  markStarted(): void {
    this.started = true;
    for (const f of this.#onFirstStart.splice(0)) f();
  }

  get name(): string {
    return this.spec.name;
  }

  get fieldPath(): string {
    const list = this.init ? 'initContainers' : 'containers';
    return `spec.${list}{${this.spec.name}}`;
  }

  /** A new run begins: the last run's state and logs become "previous". */
  beginRun(): void {
    if (this.state.terminated) this.lastState = this.state;
    if (this.#runs > 0) {
      this.logs.close();
      this.previousLogs = this.logs;
      this.logs = this.makeLogs();
    }
    this.#runs++;
    this.pullFailures = 0;
    this.settled = new Promise((resolve) => (this.#settle = resolve));
  }

  /** The current run ended: its probes stop, and it becomes the terminated state. */
  recordExit(exit: ContainerExit): void {
    // the run's output is complete: a last line without a newline is a line now (not at pod end)
    this.logs.flush();
    this.probes?.stop();
    this.probes = undefined;
    this.running = undefined;
    this.ready = false;
    this.state = {
      terminated: {
        exitCode: exit.exitCode,
        reason: exit.reason,
        ...(exit.message ? { message: exit.message } : {}),
        startedAt: rfc3339(exit.startedAt.getTime()),
        finishedAt: rfc3339(exit.finishedAt.getTime()),
      },
    };
    this.lastRunMs = exit.finishedAt.getTime() - exit.startedAt.getTime();
  }

  endRun(): void {
    this.#settle?.();
    this.#settle = undefined;
  }

  view(): SlotView {
    return { state: this.state, finished: this.finished, ready: this.ready, sidecar: this.sidecar, started: this.started };
  }

  status(): ContainerStatus {
    return {
      name: this.name,
      state: this.state,
      lastState: this.lastState,
      ready: this.ready,
      restartCount: this.restartCount,
      image: this.spec.image,
      imageID: this.imageID,
      started: this.state.running !== undefined && this.startupDone,
      ...(this.running ? { containerID: `wasm://${this.running.id}` } : {}),
    } as ContainerStatus;
  }
}
