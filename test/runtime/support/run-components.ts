// Helpers for tests that start long-running components (HTTP handlers, listeners) on a PodRuntime.
import { digestOf } from '../../../runtime/component-digest.js';
import type { ContainerLimits, HttpRequest, PodNetworkPorts, PodRuntime, Preopen, RunningContainer } from '../../../runtime/pod-runtime.js';

export interface StartOptions {
  args?: string[];
  env?: Array<[string, string]>;
  limits?: ContainerLimits;
  preopens?: Preopen[];
  network?: PodNetworkPorts;
  interactiveStdin?: boolean;
  handlerInstances?: 'fresh' | 'reuse';
}

export interface Started {
  container: RunningContainer;
  /** Everything the guest wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr contains `text`, or the container ended. */
  printed(text: string): Promise<void>;
}

export async function startComponent(runtime: PodRuntime, bytes: Uint8Array, name: string, options: StartOptions = {}): Promise<Started> {
  const component = await runtime.load(digestOf(bytes), async () => bytes);
  const output = { stdout: '', stderr: '' };
  const changes = new Changes();
  const container = await runtime.start({
    id: `${name}/${Math.random()}`,
    component,
    args: options.args ?? [name],
    env: options.env ?? [],
    limits: options.limits,
    preopens: options.preopens,
    network: options.network,
    ...(options.interactiveStdin ? { interactiveStdin: true } : {}),
    ...(options.handlerInstances ? { handlerInstances: options.handlerInstances } : {}),
    onOutput: (stream, chunk) => {
      output[stream] += Buffer.from(chunk).toString('utf8');
      changes.notify();
    },
  });
  let ended = false;
  void container.exited.then(() => {
    ended = true;
    changes.notify();
  });
  const printed = (text: string) => changes.until(() => ended || output.stdout.includes(text) || output.stderr.includes(text));
  return { container, stdout: () => output.stdout, stderr: () => output.stderr, printed };
}

export function httpRequest(method: string, pathWithQuery: string, body = ''): HttpRequest {
  return {
    method,
    pathWithQuery,
    scheme: 'http',
    authority: '127.0.0.1:8080',
    headers: [['user-agent', 'kube-probe/1.30']],
    body: new TextEncoder().encode(body),
  };
}

export const text = (body: Uint8Array): string => Buffer.from(body).toString('utf8');

/** A PodNetworkPorts that records what the runtime tells it, and waits for it. */
export class RecordingNetwork implements PodNetworkPorts {
  readonly events: string[] = [];
  readonly #changes = new Changes();
  constructor(readonly namespace?: object) {}
  listening(port: number): void {
    this.events.push(`listening ${port}`);
    this.#changes.notify();
  }
  closed(port: number): void {
    this.events.push(`closed ${port}`);
    this.#changes.notify();
  }
  waitFor(event: string): Promise<void> {
    return this.#changes.until(() => this.events.includes(event));
  }
}

/** Wakes waiters whenever something they look at changed. */
class Changes {
  #waiters: Array<() => void> = [];
  notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
