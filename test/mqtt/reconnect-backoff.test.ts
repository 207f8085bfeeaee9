import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../agent/mqtt-reconnect-backoff.js';

const backoff = { initialMs: 100, maxMs: 2000 };

describe('reconnect backoff', () => {
  it('doubles the ceiling per attempt up to maxMs', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 40].map((attempt) => reconnectDelayMs(attempt, backoff, () => 1));
    expect(ceilings).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('jitters between half the ceiling and the ceiling', () => {
    expect(reconnectDelayMs(3, backoff, () => 0)).toBe(400);
    expect(reconnectDelayMs(3, backoff, () => 0.5)).toBe(600);
  });
});
