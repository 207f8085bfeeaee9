// Seeded pseudo-random inputs for fuzz tests: the same seed gives the same cases on every run, so
// a failure is reproducible; hostile strings mix separators, escapes, unicode and long runs.

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['/', ':', '@', '.', '..', '-', '_', '__', 'sha256:', 'a'.repeat(64), '%2e', '\\', '"', "'", ',', '=', ' ', '\t', '\n', '\u0000',
  'é', '\u{1F600}', 'localhost', '127.0.0.1', '[::1]', ':5000', 'latest', 'v1', 'Bearer', 'Basic', 'realm=', 'x'.repeat(300), '{', '}', '[', ']', 'null'];

/** A string of up to `maxPieces` hostile pieces and random characters. */
export function hostileString(next: () => number, maxPieces = 12): string {
  let out = '';
  const n = Math.floor(next() * maxPieces);
  for (let i = 0; i < n; i++) {
    out += next() < 0.6 ? PIECES[Math.floor(next() * PIECES.length)] : String.fromCharCode(32 + Math.floor(next() * 95));
  }
  return out;
}

/** A random JSON-ish value up to `depth` levels deep. */
export function hostileJson(next: () => number, depth = 4): unknown {
  const r = next();
  if (depth === 0 || r < 0.3) return [null, true, 0, -1, 1e308, 'x', hostileString(next), 2 ** 53 + 1][Math.floor(next() * 8)];
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => hostileJson(next, depth - 1));
  const keys = ['mediaType', 'digest', 'size', 'layers', 'manifests', 'platform', 'schemaVersion', 'auths', 'auth', 'username', 'password', 'identitytoken', '__proto__', hostileString(next, 3)];
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [keys[Math.floor(next() * keys.length)]!, hostileJson(next, depth - 1)]));
}
