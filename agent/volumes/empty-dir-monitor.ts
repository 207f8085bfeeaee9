// Enforces emptyDir.sizeLimit as the kubelet's eviction manager does: every `intervalMs` (on the
// injected clock) it measures each emptyDir that has a sizeLimit (disk: bytes of its files; medium
// Memory: the same files, on tmpfs) and evicts a pod whose volume is over its limit. One sweep at a
// time; each measurement stops at the limit or its entry budget.
import type { Clock, ClockTimer } from '../../api/clock.js';
import { measureDirUsage, MAX_ENTRIES } from './dir-usage.js';

export interface SizeLimitedVolume {
  name: string;
  dir: string;
  limitBytes: number;
  /** The limit as written in the spec ("1Mi"), for the eviction message. */
  limitText: string;
}

export interface EvictablePod {
  uid: string;
  /** The pod's emptyDirs with a sizeLimit (those created so far). */
  sizeLimitedVolumes(): SizeLimitedVolume[];
  evict(message: string): void;
}

export interface EmptyDirMonitorOptions {
  clock: Clock;
  /** Default 10 s. */
  intervalMs?: number;
  pods(): Iterable<EvictablePod>;
  maxEntries?: number;
  /** A measurement that hit its entry budget (usage unknown beyond what was counted). */
  onPartial?(pod: string, volume: string, bytesSoFar: number): void;
}

export const DEFAULT_SIZE_LIMIT_CHECK_INTERVAL_MS = 10_000;

export const emptyDirEvictionMessage = (volume: string, limit: string): string =>
  `Usage of EmptyDir volume "${volume}" exceeds the limit "${limit}".`;

export class EmptyDirMonitor {
  #timer: ClockTimer | undefined;
  #sweep: Promise<void> | undefined;

  constructor(private readonly options: EmptyDirMonitorOptions) {}

  start(): void {
    this.#timer ??= this.options.clock.setInterval(() => void this.check(), this.options.intervalMs ?? DEFAULT_SIZE_LIMIT_CHECK_INTERVAL_MS);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** One sweep over every pod (joins the sweep under way, if any). */
  check(): Promise<void> {
    this.#sweep ??= this.#checkAll().finally(() => {
      this.#sweep = undefined;
    });
    return this.#sweep;
  }

  async #checkAll(): Promise<void> {
    for (const pod of [...this.options.pods()]) {
      for (const volume of pod.sizeLimitedVolumes()) {
        const usage = await measureDirUsage(volume.dir, volume.limitBytes, this.options.maxEntries ?? MAX_ENTRIES);
        if (usage.partial) this.options.onPartial?.(pod.uid, volume.name, usage.bytes);
        if (usage.exceeded) {
          pod.evict(emptyDirEvictionMessage(volume.name, volume.limitText));
          break;
        }
      }
    }
  }
}
