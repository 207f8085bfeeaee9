// The probes of one container run, wired as the kubelet does: while a startupProbe has not
// succeeded the other probes wait and the container is not started; a failed startup or liveness
// probe kills the container (restarted by its restart policy); the readiness probe drives the
// container's ready flag (no readiness probe: ready once started).
//
// Handlers: `exec` runs the probe's command as a one-shot instance of the container's own
// component (same env, volumes and limits) with the command as argv; exit code 0 is success.
// `httpGet`, `tcpSocket` and `grpc` need a guest that listens, which skiff's WASI host does not
// offer yet (sockets and wasi:http are denied): such a probe is reported by a Warning event
// (ProbeNotSupported) and ignored, never guessed.
import type { Clock } from '../../api/clock.js';
import type { ContainerSpec, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import type { ContainerSlot } from './container-slot.js';
import { Prober, type ProbeAttempt, type ProbeKind, type ProbeOutcome, type ProbeSpec } from './prober.js';

export interface ContainerProbeHooks {
  /** The container's ready flag changed. */
  onReady(ready: boolean): void;
  /** The startup probe succeeded (the container counts as started). */
  onStarted(): void;
  /** A startup or liveness probe failed for good: the container must be killed and restarted. */
  onKill(kind: 'Startup' | 'Liveness', message: string): void;
  onEvent(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ContainerProbeOptions {
  container: { name: string; startupProbe?: unknown; livenessProbe?: unknown; readinessProbe?: unknown };
  /** The running container's instance spec: exec probes run the same component in the same context. */
  instance: ContainerSpec;
  runtime: PodRuntime;
  clock: Clock;
  hooks: ContainerProbeHooks;
}

const KEYS: Record<ProbeKind, 'startupProbe' | 'livenessProbe' | 'readinessProbe'> = {
  Startup: 'startupProbe', Liveness: 'livenessProbe', Readiness: 'readinessProbe',
};

/** Whether this container waits for a probe before it counts as started / ready. */
export function gatesOf(container: ContainerProbeOptions['container']): { startup: boolean; readiness: boolean } {
  return { startup: isSupported(container.startupProbe), readiness: isSupported(container.readinessProbe) };
}

function isSupported(probe: unknown): boolean {
  return typeof probe === 'object' && probe !== null && (probe as ProbeSpec).exec !== undefined;
}

export class ContainerProbes {
  readonly #probers: Prober[] = [];
  #stopped = false;
  #attempts = 0;

  constructor(private readonly options: ContainerProbeOptions) {}

  start(): void {
    const { container, hooks } = this.options;
    for (const kind of ['Startup', 'Liveness', 'Readiness'] as const) {
      const probe = container[KEYS[kind]] as ProbeSpec | undefined;
      if (probe && !isSupported(probe)) {
        const handler = probe.httpGet ? 'httpGet' : probe.tcpSocket ? 'tcpSocket' : probe.grpc ? 'grpc' : 'a missing handler';
        hooks.onEvent('Warning', 'ProbeNotSupported',
          `${kind} probe of container ${container.name} uses ${handler}, which skiff does not run yet (only exec); the probe is ignored`);
      }
    }
    const startup = this.#prober('Startup', {
      onResult: (ok) => {
        if (!ok) return this.#kill('Startup', 'failed startup probe');
        startup?.stop();
        hooks.onStarted();
        this.#startAfterStartup();
      },
    });
    if (startup) startup.start();
    else this.#startAfterStartup();
  }

  stop(): void {
    this.#stopped = true;
    for (const prober of this.#probers) prober.stop();
  }

  #startAfterStartup(): void {
    if (this.#stopped) return;
    this.#prober('Liveness', { onResult: (ok) => { if (!ok) this.#kill('Liveness', 'failed liveness probe'); } })?.start();
    const readiness = this.#prober('Readiness', { onResult: (ok) => this.options.hooks.onReady(ok) });
    if (readiness) readiness.start();
    else this.options.hooks.onReady(true);
  }

  #kill(kind: 'Startup' | 'Liveness', why: string): void {
    if (this.#stopped) return;
    this.stop();
    this.options.hooks.onEvent('Normal', 'Killing', `Container ${this.options.container.name} ${why}, will be restarted`);
    this.options.hooks.onKill(kind, why);
  }

  #prober(kind: ProbeKind, hooks: { onResult(ok: boolean): void }): Prober | undefined {
    const probe = this.options.container[KEYS[kind]] as ProbeSpec | undefined;
    if (!probe || !isSupported(probe)) return undefined;
    const prober = new Prober(kind, probe, this.#execAttempt(probe.exec?.command ?? []), this.options.clock, {
      onResult: hooks.onResult,
      onAttemptFailed: (message) => this.options.hooks.onEvent('Warning', 'Unhealthy', `${kind} probe failed: ${message}`),
    });
    this.#probers.push(prober);
    return prober;
  }

  /** One exec attempt: the command as argv of a one-shot instance; exit 0 = success. */
  #execAttempt(command: string[]): ProbeAttempt {
    return async (signal) => {
      if (command.length === 0) return { ok: false, message: 'exec probe has no command' };
      const { instance, runtime } = this.options;
      let output = '';
      const running = await runtime.start({
        ...instance,
        id: `${instance.id}/probe-${++this.#attempts}`,
        args: command,
        stdin: new Uint8Array(),
        onOutput: (_stream, chunk) => {
          output = (output + Buffer.from(chunk).toString('utf8')).slice(-1024);
        },
      });
      const onAbort = () => void running.stop(0);
      signal.addEventListener('abort', onAbort, { once: true });
      const exit = await running.exited.finally(() => signal.removeEventListener('abort', onAbort));
      return outcomeOf(command, exit.exitCode, exit.message ?? output.trim().split('\n').at(-1) ?? '');
    };
  }
}

function outcomeOf(command: string[], exitCode: number, detail: string): ProbeOutcome {
  if (exitCode === 0) return { ok: true };
  return { ok: false, message: `command ${JSON.stringify(command)} exited with code ${exitCode}${detail ? `: ${detail}` : ''}` };
}

export interface SlotProbeDeps {
  runtime: PodRuntime;
  clock: Clock;
  /** Sends the pod's status (after ready/started changed). */
  report(): void;
  graceMs(): number;
  onEvent(type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
}

/**
 * Starts the probes of a container run and wires them to its slot: ready and started flags, and
 * a kill (counted as a failure for the restart policy) when a startup or liveness probe gives up.
 * Plain init containers get no probes (as with the kubelet) and are ready while they run.
 */
export function startSlotProbes(slot: ContainerSlot, running: RunningContainer, instance: ContainerSpec, deps: SlotProbeDeps): void {
  slot.probeKilled = false;
  if (slot.init && !slot.sidecar) {
    slot.ready = true;
    return;
  }
  slot.startupDone = !gatesOf(slot.spec).startup;
  slot.ready = false;
  const current = () => slot.running === running;
  const probes = new ContainerProbes({
    container: slot.spec,
    instance,
    runtime: deps.runtime,
    clock: deps.clock,
    hooks: {
      onReady: (ready) => {
        if (!current() || slot.ready === ready) return;
        slot.ready = ready;
        deps.report();
      },
      onStarted: () => {
        if (!current()) return;
        slot.startupDone = true;
        deps.report();
      },
      onKill: () => {
        if (!current()) return;
        slot.probeKilled = true;
        void running.stop(deps.graceMs());
      },
      onEvent: (type, reason, message) => deps.onEvent(type, reason, message, slot.fieldPath),
    },
  });
  slot.probes = probes;
  probes.start();
}
