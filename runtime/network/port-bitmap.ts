// Ownership of a pod network's TCP ports, shared by every worker running one of the pod's guests:
// one bit per port in a SharedArrayBuffer, claimed with compare-and-swap, so two guests binding the
// same port at the same moment in two threads cannot both get it (the second sees address-in-use).
const PORT_COUNT = 65_536;
const BITS_PER_WORD = 32;

export function createPortBitmap(): SharedArrayBuffer {
  return new SharedArrayBuffer((PORT_COUNT / BITS_PER_WORD) * Int32Array.BYTES_PER_ELEMENT);
}

const wordOf = (port: number) => port >>> 5;
const bitOf = (port: number) => 1 << (port & 31);

/** Takes `port` (1-65535) if it is free; false when another guest of the pod holds it. */
export function claimPort(bitmap: Int32Array, port: number): boolean {
  const index = wordOf(port);
  const bit = bitOf(port);
  for (;;) {
    const word = Atomics.load(bitmap, index);
    if ((word & bit) !== 0) return false;
    if (Atomics.compareExchange(bitmap, index, word, word | bit) === word) return true;
  }
}

export function releasePort(bitmap: Int32Array, port: number): void {
  Atomics.and(bitmap, wordOf(port), ~bitOf(port));
}

export function isPortClaimed(bitmap: Int32Array, port: number): boolean {
  return (Atomics.load(bitmap, wordOf(port)) & bitOf(port)) !== 0;
}

// Linux's default ip_local_port_range
export const EPHEMERAL_FIRST = 32_768;
export const EPHEMERAL_LAST = 60_999;

/** Claims a free ephemeral port, starting the scan at a random one; undefined when all are taken. */
export function claimEphemeralPort(bitmap: Int32Array, random: () => number = Math.random): number | undefined {
  const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
  const start = Math.floor(random() * span);
  for (let i = 0; i < span; i++) {
    const port = EPHEMERAL_FIRST + ((start + i) % span);
    if (claimPort(bitmap, port)) return port;
  }
  return undefined;
}
