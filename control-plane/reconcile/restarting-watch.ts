// The one restarting watch of the control plane: list a kind, watch from the list's revision, and
// when the watch ends (410 after compaction, an overflow, a closed store) list and watch again after
// a delay on the injected clock. Informers are built on it; nothing else watches the store directly.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';

export interface RestartingWatchOptions<T extends KubeObject> {
  resources: ResourceStore;
  type: ResourceType;
  clock: Clock;
  logger: Logger;
  /** For the log line when the watch ends. */
  name: string;
  /** Every object at the list's revision (the first list and every relist). */
  onList: (items: T[]) => void;
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
  /** A put the caller already holds at that revision is skipped unparsed (ResourceStore watch option isHeld). */
  isHeld?: (name: string, modRevision: number) => boolean;
  /** Delay before listing again (default 1 s). */
  restartDelayMs?: number;
}

export interface RestartingWatch {
  stop(): void;
}

export function startRestartingWatch<T extends KubeObject>(options: RestartingWatchOptions<T>): RestartingWatch {
  const { resources, type, clock, logger } = options;
  let stopped = false;
  let current: { cancel(): void } | undefined;
  let timer: ClockTimer | undefined;
  let generation = 0;

  const restart = (error: Error) => {
    if (stopped) return;
    logger.warn({ watch: options.name, err: error.message }, 'watch ended; listing again');
    current?.cancel();
    current = undefined;
    timer = clock.setTimeout(() => void run(), options.restartDelayMs ?? 1000);
  };
  const run = async () => {
    const mine = ++generation;
    try {
      // the objects every reader of the store shares (frozen, as the watch's are): no copy per informer
      const list = await resources.list<T>(type, { shared: true });
      if (stopped || mine !== generation) return;
      options.onList(list.items);
      const isHeld = options.isHeld;
      current = resources.watch<T>(type, { resourceVersion: list.metadata.resourceVersion ?? '0', ...(isHeld ? { isHeld } : {}) }, (t, obj) => {
        if (stopped || mine !== generation) return;
        if (t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED') options.onEvent(t, obj);
      }, (error) => {
        if (mine === generation) restart(error);
      });
    } catch (error) {
      if (mine === generation) restart(error instanceof Error ? error : new Error(String(error)));
    }
  };
  void run();
  return {
    stop: () => {
      stopped = true;
      timer?.cancel();
      current?.cancel();
    },
  };
}
