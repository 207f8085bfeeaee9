// A PodManager over a fake PodRuntime and a FakeClock, for the probe unit tests: containers run
// until stopped; exec-probe instances exit at once with `probeExitCode`; a container named in
// `handlers` is an HTTP handler (its RunningContainer has handleHttp); `listen`/`unlisten` play a
// guest opening and closing a TCP listener through the pod network the container was given.
import { ComponentFetcher, type FetchedComponent } from '../../agent/component-fetcher.js';
import { PodManager, type PodReporter } from '../../agent/pods/pod-manager.js';
import type { DesiredStateMessage, EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { ContainerStatus } from '../../api/types/pod.js';
import type { ContainerExit, ContainerSpec, HttpRequest, HttpResponse, LoadedComponent, PodRuntime, RunningContainer } from '../../runtime/pod-runtime.js';
import { FakeClock } from '../support/fake-clock.js';

const DIGEST = `sha256:${'2'.repeat(64)}`;

export type FakeHandler = (request: HttpRequest, timeoutMs: number) => Promise<HttpResponse> | HttpResponse;

export const respond = (status: number, body = ''): HttpResponse => ({ status, headers: [], body: new TextEncoder().encode(body) });

export class ProbeRuntime implements PodRuntime {
  probeExitCode = 0;
  readonly containers: Array<{ spec: ContainerSpec; stopped: boolean; name: string }> = [];
  readonly probes: ContainerSpec[] = [];
  /** HTTP handlers by container name. */
  readonly handlers = new Map<string, FakeHandler>();
  readonly requests: Array<{ container: string; request: HttpRequest; timeoutMs: number }> = [];

  async load(digest: string): Promise<LoadedComponent> {
    return { digest };
  }

  async start(spec: ContainerSpec): Promise<RunningContainer> {
    const startedAt = new Date();
    if (spec.id.includes('/probe-')) {
      this.probes.push(spec);
      const exit: ContainerExit = { exitCode: this.probeExitCode, reason: this.probeExitCode ? 'Error' : 'Completed', startedAt, finishedAt: startedAt };
      return { id: spec.id, startedAt, exited: Promise.resolve(exit), stop: async () => exit };
    }
    let settle!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settle = r));
    const name = spec.id.split('/')[1]!;
    const entry = { spec, stopped: false, name };
    this.containers.push(entry);
    const handler = this.handlers.get(name);
    return {
      id: spec.id, startedAt, exited,
      stop: async () => { entry.stopped = true; settle({ exitCode: 137, reason: 'Killed', startedAt, finishedAt: new Date() }); return exited; },
      ...(handler ? {
        handleHttp: async (request: HttpRequest, timeoutMs: number) => {
          this.requests.push({ container: name, request, timeoutMs });
          return handler(request, timeoutMs);
        },
      } : {}),
    };
  }

  /** The latest instance of container `name`. */
  latest(name: string): { spec: ContainerSpec; stopped: boolean } {
    return this.containers.filter((c) => c.name === name).at(-1)!;
  }

  listen(name: string, port: number): void {
    this.latest(name).spec.network!.listening(port, 'TCP');
  }

  unlisten(name: string, port: number): void {
    this.latest(name).spec.network!.closed(port, 'TCP');
  }

  async close(): Promise<void> {}
}

class FakeFetcher extends ComponentFetcher {
  constructor() { super({ token: 't' }); }
  override async fetch(): Promise<FetchedComponent> { return { bytes: new Uint8Array([0, 97, 115, 109]), downloaded: true }; }
}

export interface ProbeSetupOptions {
  restartPolicy?: string;
  /** More containers of the pod, after `main`. */
  others?: Array<Record<string, unknown>>;
  podIP?: string | null;
  /** Prepares the runtime before the pod starts (handlers). */
  prepare?(runtime: ProbeRuntime): void;
}

export function setupProbedPod(container: Record<string, unknown>, options: ProbeSetupOptions = {}) {
  const clock = new FakeClock();
  const runtime = new ProbeRuntime();
  options.prepare?.(runtime);
  const statuses: Array<Omit<PodStatusMessage, 'v' | 'sessionId' | 'seq' | 'ts'>> = [];
  const events: Array<Pick<EventMessage, 'reason' | 'message' | 'type'>> = [];
  const reporter: PodReporter = { podStatus: (m) => statuses.push(m), event: (m) => events.push(m) };
  const manager = new PodManager({ runtime, fetcher: new FakeFetcher(), clock, nodeName: 'n1', hostIP: '127.0.0.1', reporter });
  const image = 'examples/hello:latest';
  const podIP = options.podIP === undefined ? '10.42.1.3' : options.podIP;
  const desired: DesiredStateMessage = {
    v: 1, node: 'n1', generation: 1, cpEpoch: 'e', ts: 0,
    pods: [{
      pod: {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probed', namespace: 'default', uid: 'u1' },
        spec: {
          restartPolicy: options.restartPolicy ?? 'Always',
          containers: [
            { name: 'main', image, env: [{ name: 'WHO', value: 'probe' }], ...container },
            ...(options.others ?? []).map((c) => ({ image, ...c })),
          ],
        },
      },
      ...(podIP ? { podIP } : {}),
      images: { [image]: { digest: DIGEST, url: 'https://cp/registry' } },
    }],
  } as DesiredStateMessage;
  const last = () => statuses.at(-1)!;
  const status = (name = 'main') => last().status.containerStatuses?.find((c) => c.name === name) as ContainerStatus | undefined;
  const ready = () => last().status.conditions?.find((c) => c.type === 'Ready')?.status;
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const advance = async (ms: number) => {
    await flush();
    for (let step = 0; step < ms; step += 500) {
      clock.advance(Math.min(500, ms - step));
      await flush();
    }
  };
  const unhealthy = () => events.filter((e) => e.reason === 'Unhealthy').map((e) => e.message);
  manager.apply(desired);
  return { clock, runtime, events, status, ready, flush, advance, unhealthy, manager };
}
