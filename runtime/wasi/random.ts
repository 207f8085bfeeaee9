// wasi:random: cryptographic bytes for both the secure and the insecure interfaces.
import { getRandomValues, randomBytes } from 'node:crypto';

// WIT lengths are u64; nothing sane asks for more than this in one call
const MAX_RANDOM_BYTES = 64 * 1024 * 1024;

function bytes(length: bigint): Uint8Array {
  if (length > BigInt(MAX_RANDOM_BYTES)) throw new Error(`random: ${length} bytes requested, at most ${MAX_RANDOM_BYTES}`);
  return new Uint8Array(randomBytes(Number(length)));
}

const u64 = (): bigint => getRandomValues(new BigUint64Array(1))[0]!;

export function createRandomImports() {
  const seed: [bigint, bigint] = [u64(), u64()];
  return {
    'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => seed },
  };
}
