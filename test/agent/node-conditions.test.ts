import { describe, expect, it } from 'vitest';
import { pressure } from '../../agent/node-conditions.js';

const GiB = 1024 ** 3;

describe('node pressure conditions', () => {
  it('reports MemoryPressure under 5 % free memory (at least 64 MiB) by default', () => {
    expect(pressure({ freeMemoryBytes: 0.04 * 8 * GiB, totalMemoryBytes: 8 * GiB, runningInstances: 0 }, { maxInstances: 10 }).memory).toBe(true);
    expect(pressure({ freeMemoryBytes: 0.06 * 8 * GiB, totalMemoryBytes: 8 * GiB, runningInstances: 0 }, { maxInstances: 10 }).memory).toBe(false);
    // a 512 MiB Pi: 5 % would be 25.6 MiB, the 64 MiB floor wins
    expect(pressure({ freeMemoryBytes: 60 << 20, totalMemoryBytes: 512 << 20, runningInstances: 0 }, { maxInstances: 10 }).memory).toBe(true);
    expect(pressure({ freeMemoryBytes: 60 << 20, totalMemoryBytes: GiB, runningInstances: 0 }, { maxInstances: 10, minFreeMemoryBytes: 32 << 20 }).memory).toBe(false);
  });

  it('reports PIDPressure once running instances reach the limit', () => {
    const sample = (n: number) => ({ freeMemoryBytes: GiB, totalMemoryBytes: 2 * GiB, runningInstances: n });
    expect(pressure(sample(9), { maxInstances: 10 }).pid).toBe(false);
    expect(pressure(sample(10), { maxInstances: 10 }).pid).toBe(true);
  });
});
