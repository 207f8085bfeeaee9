// What host functions need from the worker that runs the guest: stop requests and blocking sleeps.

/** Raised inside host calls once the runtime asked the guest to stop; unwinds the guest. */
export class GuestStopRequestedError extends Error {
  override readonly name = 'GuestStopRequestedError';
  constructor() {
    super('stop requested');
  }
}

export interface GuestControl {
  /** Throws GuestStopRequestedError if a stop was requested. */
  checkStop(): void;
  /** Blocks the guest thread until the monotonic clock reaches `deadlineNs`, or a stop request. */
  sleepUntil(deadlineNs: bigint): void;
}

export const monotonicNowNs = (): bigint => process.hrtime.bigint();

const STOP_FLAG_INDEX = 0;

/**
 * A control backed by a shared Int32Array: the runtime stores 1 at index 0 and notifies, which
 * also wakes a guest sleeping in `sleepUntil`.
 */
export class SharedGuestControl implements GuestControl {
  constructor(private readonly shared: Int32Array) {}

  static requestStop(shared: Int32Array): void {
    Atomics.store(shared, STOP_FLAG_INDEX, 1);
    Atomics.notify(shared, STOP_FLAG_INDEX);
  }

  get isStopRequested(): boolean {
    return Atomics.load(this.shared, STOP_FLAG_INDEX) !== 0;
  }

  checkStop(): void {
    if (this.isStopRequested) throw new GuestStopRequestedError();
  }

  sleepUntil(deadlineNs: bigint): void {
    for (;;) {
      this.checkStop();
      const remainingNs = deadlineNs - monotonicNowNs();
      if (remainingNs <= 0n) return;
      Atomics.wait(this.shared, STOP_FLAG_INDEX, 0, Number(remainingNs) / 1e6);
    }
  }
}
