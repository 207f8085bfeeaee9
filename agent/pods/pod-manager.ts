// Applies the node's desired state: starts pods that are new, updates changed ones, stops deleted
// ones, and reports each pod's status (deduplicated) and events through a PodReporter.
import type { Clock } from '../../api/clock.js';
import type { DesiredPod, DesiredStateMessage, EventMessage, PodStatusMessage } from '../../api/mqtt/messages.js';
import type { PodStatus } from '../../api/types/pod.js';
import type { LoadedComponent, PodRuntime } from '../../runtime/pod-runtime.js';
import { InvalidComponentError, DigestMismatchError } from '../../runtime/pod-runtime.js';
import type { ComponentFetcher } from '../component-fetcher.js';
import { ImagePullError, PodWorker } from './pod-worker.js';

type Envelope = 'v' | 'sessionId' | 'seq' | 'ts';

export interface PodReporter {
  podStatus(message: Omit<PodStatusMessage, Envelope>): void;
  event(message: Omit<EventMessage, Envelope>): void;
}

export interface PodManagerOptions {
  runtime: PodRuntime;
  fetcher: ComponentFetcher;
  clock: Clock;
  nodeName: string;
  hostIP: string;
  reporter: PodReporter;
  logBufferBytes?: number;
}

export class PodManager {
  #generation = 0;
  readonly #workers = new Map<string, PodWorker>();
  readonly #lastSent = new Map<string, string>();
  readonly #removing = new Set<string>();

  constructor(private readonly options: PodManagerOptions) {}

  /** Generation of the desired state applied last (0: none). */
  get appliedGeneration(): number {
    return this.#generation;
  }

  get podCount(): number {
    return this.#workers.size;
  }

  /** Applies a desired state if it is newer than the one applied; returns whether it did. */
  apply(desired: DesiredStateMessage): boolean {
    if (desired.generation <= this.#generation) return false;
    this.#generation = desired.generation;
    const wanted = new Map(desired.pods.map((p) => [p.pod.metadata.uid, p]));
    for (const [uid, worker] of this.#workers) {
      if (!wanted.has(uid)) void this.#remove(worker, 0);
    }
    for (const [uid, desiredPod] of wanted) {
      const worker = this.#workers.get(uid);
      if (worker) {
        worker.update(desiredPod);
        if (desiredPod.pod.metadata['deletionTimestamp']) void this.#remove(worker, undefined);
      } else if (!desiredPod.pod.metadata['deletionTimestamp']) {
        this.#startPod(desiredPod);
      } else {
        // deleted before it ever ran here: nothing to stop
        this.#sendRemoved(uid, desiredPod.pod.metadata.name, desiredPod.pod.metadata.namespace);
      }
    }
    return true;
  }

  /** Sends every pod's current status again (after a reconnect or a new control-plane epoch). */
  republish(): void {
    this.#lastSent.clear();
    for (const worker of this.#workers.values()) this.#sendStatus(worker, worker.status());
  }

  findPod(namespace: string, name: string): PodWorker | undefined {
    for (const worker of this.#workers.values()) {
      if (worker.pod.metadata.name === name && worker.pod.metadata.namespace === namespace) return worker;
    }
    return undefined;
  }

  /** Counts of running containers, for node status (PIDPressure analogue). */
  get workers(): Iterable<PodWorker> {
    return this.#workers.values();
  }

  /** Stops every pod (agent shutdown): containers end, nothing is reported as removed. */
  async stopAll(gracePeriodMs: number): Promise<void> {
    await Promise.all([...this.#workers.values()].map((w) => w.terminate(gracePeriodMs)));
  }

  #startPod(desired: DesiredPod): void {
    const uid = desired.pod.metadata.uid;
    const { name, namespace } = desired.pod.metadata;
    const worker: PodWorker = new PodWorker(desired, {
      runtime: this.options.runtime,
      pullImage: (image, d) => this.#pullImage(image, d),
      clock: this.options.clock,
      nodeName: this.options.nodeName,
      hostIP: this.options.hostIP,
      logBufferBytes: this.options.logBufferBytes,
      onStatus: (status) => this.#sendStatus(worker, status),
      onEvent: (type, reason, message, fieldPath) => this.options.reporter.event({
        involvedObject: { kind: 'Pod', name, namespace, uid, ...(fieldPath ? { fieldPath } : {}) },
        type, reason, message,
      }),
    });
    this.#workers.set(uid, worker);
    worker.start();
  }

  /** Stops a pod (grace from its deletion, or `graceMs`) and reports it removed. */
  async #remove(worker: PodWorker, graceMs: number | undefined): Promise<void> {
    if (this.#removing.has(worker.uid)) return;
    this.#removing.add(worker.uid);
    const meta = worker.pod.metadata;
    const grace = graceMs ?? (meta.deletionGracePeriodSeconds ?? worker.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await worker.terminate(grace);
    this.#workers.delete(worker.uid);
    this.#removing.delete(worker.uid);
    this.#sendRemoved(worker.uid, meta.name!, meta.namespace!, worker.status());
  }

  #sendRemoved(uid: string, name: string, namespace: string, status?: PodStatus): void {
    this.#lastSent.delete(uid);
    this.options.reporter.podStatus({
      uid, name, namespace, removed: true,
      status: (status ?? { phase: 'Failed' }) as PodStatusMessage['status'],
    });
  }

  #sendStatus(worker: PodWorker, status: PodStatus): void {
    if (!this.#workers.has(worker.uid) || this.#removing.has(worker.uid)) return;
    const text = JSON.stringify(status);
    if (this.#lastSent.get(worker.uid) === text) return;
    this.#lastSent.set(worker.uid, text);
    const meta = worker.pod.metadata;
    this.options.reporter.podStatus({
      uid: worker.uid, name: meta.name!, namespace: meta.namespace!, removed: false,
      status: status as PodStatusMessage['status'],
    });
  }

  async #pullImage(image: string, desired: DesiredPod): Promise<LoadedComponent> {
    const resolution = desired.images[image];
    if (!resolution) throw new ImagePullError(`image "${image}" was not resolved by the control plane`, false);
    if ('error' in resolution) throw new ImagePullError(resolution.error, false);
    try {
      const bytes = await this.options.fetcher.fetch(resolution.digest, resolution.url);
      return await this.options.runtime.load(resolution.digest, async () => bytes);
    } catch (error) {
      const retryable = !(error instanceof InvalidComponentError || error instanceof DigestMismatchError);
      const message = error instanceof Error ? error.message : String(error);
      throw new ImagePullError(retryable ? message : `invalid component: ${message}`, retryable, { cause: error });
    }
  }
}
