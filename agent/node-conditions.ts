// The node's pressure conditions, as pure rules over a sample: MemoryPressure when the device's
// free memory falls under a floor, PIDPressure when the running Wasm instances near the cap (an
// instance is a worker thread: the agent's analogue of a process).
import { freemem, totalmem } from 'node:os';

export interface PressureSample {
  freeMemoryBytes: number;
  totalMemoryBytes: number;
  runningInstances: number;
}

export interface PressureThresholds {
  /** MemoryPressure below this much free memory (default: 5 % of total, at least 64 MiB). */
  minFreeMemoryBytes?: number;
  /** PIDPressure at or above this many running instances. */
  maxInstances: number;
}

export interface Pressure {
  memory: boolean;
  pid: boolean;
}

export function pressure(sample: PressureSample, thresholds: PressureThresholds): Pressure {
  const floor = thresholds.minFreeMemoryBytes ?? Math.max(64 << 20, sample.totalMemoryBytes * 0.05);
  return {
    memory: sample.freeMemoryBytes < floor,
    pid: sample.runningInstances >= thresholds.maxInstances,
  };
}

export const sampleHost = (runningInstances: number): PressureSample => ({
  freeMemoryBytes: freemem(), totalMemoryBytes: totalmem(), runningInstances,
});
