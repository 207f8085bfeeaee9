// wasi:clocks: real wall and monotonic time; subscriptions are pollables that really block.
import { monotonicNowNs, type GuestControl } from './guest-control.js';
import { Pollable } from './io.js';

export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

export function createClocksImports(control: GuestControl) {
  return {
    'wasi:clocks/wall-clock': {
      now: (): Datetime => {
        const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
        return { seconds: nowNs / 1_000_000_000n, nanoseconds: Number(nowNs % 1_000_000_000n) };
      },
      resolution: (): Datetime => ({ seconds: 0n, nanoseconds: 1_000 }),
    },
    'wasi:clocks/monotonic-clock': {
      now: (): bigint => monotonicNowNs(),
      resolution: (): bigint => 1n,
      subscribeInstant: (instantNs: bigint) => new Pollable(control, instantNs),
      subscribeDuration: (durationNs: bigint) => new Pollable(control, monotonicNowNs() + durationNs),
    },
  };
}
