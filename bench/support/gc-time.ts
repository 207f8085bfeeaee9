// Time the main thread spent paused in V8's garbage collector, by kind, from node:perf_hooks' `gc`
// entries (what `--trace-gc` prints, summed): benchmarks read it at checkpoints and print the
// difference per step next to the CPU used, so a slowdown can be told apart as GC or not.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface GcTotals {
  /** Scavenges (young generation). */
  minorMs: number;
  /** Mark-compact pauses (old generation; incremental marking steps are counted apart). */
  majorMs: number;
  /** Incremental marking and weak callback pauses. */
  otherMs: number;
  majorCount: number;
}

export interface GcClock {
  /** Totals since start (a copy). */
  read(): GcTotals;
  stop(): void;
}

export function startGcClock(): GcClock {
  const totals: GcTotals = { minorMs: 0, majorMs: 0, otherMs: 0, majorCount: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) add(totals, entry);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    read: () => ({ ...totals }),
    stop: () => observer.disconnect(),
  };
}

function add(totals: GcTotals, entry: PerformanceEntry): void {
  const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
  if (kind === constants.NODE_PERFORMANCE_GC_MINOR) totals.minorMs += entry.duration;
  else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
    totals.majorMs += entry.duration;
    totals.majorCount++;
  } else totals.otherMs += entry.duration;
}
