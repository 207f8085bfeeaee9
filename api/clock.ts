// An injectable clock: time-based logic (leases, heartbeats, backoff, node lifecycle) takes one,
// and tests drive a FakeClock (test/support/fake-clock.ts) instead of sleeping.

export interface Clock {
  now(): number; // ms since epoch
  setTimeout(fn: () => void, ms: number): ClockTimer;
  setInterval(fn: () => void, ms: number): ClockTimer;
}

export interface ClockTimer {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

/** RFC 3339 with microseconds, as Kubernetes writes MicroTime (Lease renewTime). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** RFC 3339 to the second, as Kubernetes writes Time (creationTimestamp). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
