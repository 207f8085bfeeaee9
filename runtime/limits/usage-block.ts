// The usage block of a metered guest: shared memory its FuelMeter writes at every fuel check and
// the runtime reads for metrics, without a message round trip to a worker that may be spinning.
export const USAGE_FUEL_INDEX = 0;
export const USAGE_MEMORY_BYTES_INDEX = 1;
const USAGE_LENGTH = 2;

export function createUsageBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(USAGE_LENGTH * BigInt64Array.BYTES_PER_ELEMENT);
}

/** What the block says now: fuel consumed so far, and bytes of linear memory. */
export function readUsage(block: BigInt64Array): { fuelConsumed: bigint; memoryBytes: number } {
  return {
    fuelConsumed: Atomics.load(block, USAGE_FUEL_INDEX),
    memoryBytes: Number(Atomics.load(block, USAGE_MEMORY_BYTES_INDEX)),
  };
}
