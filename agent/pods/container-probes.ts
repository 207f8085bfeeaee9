// The probes of one container run, wired as the kubelet does: while a startupProbe has not
// succeeded the other probes wait and the container is not started; a failed startup or liveness
// probe kills the container (restarted by its restart policy); the readiness probe drives the
// container's ready flag (no readiness probe: ready once started).
//
// Handlers: `exec` runs the probe's command as a one-shot instance of the container's own
// component (exec-probe.ts); `httpGet` and `tcpSocket` go to the pod's virtual network
// (network-probes.ts, pod-network.ts): an HTTP-handler container listening on the port, or a
// guest's TCP listener. `grpc` is reported by a Warning event (ProbeNotSupported) and ignored,
// never guessed.
import type { Clock } from '../../api/clock.js';
import type { ContainerPort } from '../../api/types/pod.js';
import type { ContainerSpec, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import type { ContainerSlot } from './container-slot.js';
import { execProbe } from './exec-probe.js';
import { httpGetProbe, tcpSocketProbe } from './network-probes.js';
import type { PodNetwork } from './pod-network.js';
import { Prober, type ProbeAttempt, type ProbeKind, type ProbeSpec } from './prober.js';

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
  container: { name: string; ports?: ContainerPort[]; startupProbe?: unknown; livenessProbe?: unknown; readinessProbe?: unknown };
  /** The running container's instance spec: exec probes run the same component in the same context. */
  instance: ContainerSpec;
  runtime: PodRuntime;
  /** The pod's network: where httpGet and tcpSocket probes look for the port. */
  network: PodNetwork;
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
  if (typeof probe !== 'object' || probe === null) return false;
  const { exec, httpGet, tcpSocket } = probe as ProbeSpec;
  return exec !== undefined || httpGet !== undefined || tcpSocket !== undefined;
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
        const handler = probe.grpc ? 'grpc' : 'no handler';
        hooks.onEvent('Warning', 'ProbeNotSupported',
          `${kind} probe of container ${container.name} uses ${handler}, which skiff does not run (only exec, httpGet and tcpSocket); the probe is ignored`);
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
    const { attempt, timeoutMessage } = this.#handler(kind, probe);
    const prober = new Prober(kind, probe, attempt, this.options.clock, {
      onResult: hooks.onResult,
      onAttemptFailed: (message, errored) =>
        this.options.hooks.onEvent('Warning', 'Unhealthy', `${kind} probe ${errored ? 'errored' : 'failed'}: ${message}`),
    }, timeoutMessage);
    this.#probers.push(prober);
    return prober;
  }

  #handler(kind: ProbeKind, probe: ProbeSpec): { attempt: ProbeAttempt; timeoutMessage?: string } {
    const { container, instance, runtime, network } = this.options;
    const ctx = { network, container, timeoutSeconds: Prober.settings(kind, probe).timeoutSeconds };
    if (probe.httpGet) return httpGetProbe(probe.httpGet, ctx);
    if (probe.tcpSocket) return tcpSocketProbe(probe.tcpSocket, ctx);
    return {
      attempt: execProbe(probe.exec?.command ?? [], {
        instance, runtime, network, container: container.name, nextId: () => `${instance.id}/probe-${++this.#attempts}`,
      }),
    };
  }
}

export interface SlotProbeDeps {
  runtime: PodRuntime;
  network: PodNetwork;
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
    network: deps.network,
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
