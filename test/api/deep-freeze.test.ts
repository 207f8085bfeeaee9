import { describe, expect, it } from 'vitest';
import { deepFreeze, jsonCopy } from '../../api/deep-freeze.js';
import { seededRandom } from '../support/seeded-random.js';

/** Random JSON values (what a parsed store value holds), seeded. */
function jsonValues(seed: number, count: number): unknown[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const value = (depth: number): unknown => {
    const r = random();
    if (depth <= 0 || r < 0.35) return pick([null, true, false, 0, 1, -2.5, '', 'a', '10', 'ü\u2028', '__proto__']);
    if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth - 1));
    const obj: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 5); i > 0; i--) {
      // as JSON.parse makes them: own keys, "__proto__" included
      const key = pick(['a', 'b', 'metadata', '1', '0', 'z', 'constructor', 'toString', '__proto__']);
      Object.defineProperty(obj, key, { value: value(depth - 1), enumerable: true, writable: true, configurable: true });
    }
    return obj;
  };
  return Array.from({ length: count }, () => value(5));
}

const objectsOf = (v: unknown): object[] => (typeof v === 'object' && v !== null ? [v, ...Object.values(v).flatMap(objectsOf)] : []);

describe('deepFreeze and jsonCopy', () => {
  it('jsonCopy gives what a JSON round trip gives, key order included, sharing no object (seeded fuzz)', () => {
    for (const value of jsonValues(2026, 2000)) {
      const text = JSON.stringify(value);
      const frozen = deepFreeze(JSON.parse(text) as unknown);
      const copy = jsonCopy(frozen);
      expect(JSON.stringify(copy)).toBe(text);
      expect(copy).toEqual(JSON.parse(text));
      const shared = new Set(objectsOf(frozen));
      for (const o of objectsOf(copy)) {
        expect(shared.has(o)).toBe(false);
        expect(Object.isFrozen(o)).toBe(false);
      }
    }
  });

  it('deepFreeze freezes every object reachable, and a parsed "__proto__" key stays a plain key', () => {
    const value = deepFreeze(JSON.parse('{"a":{"b":[{"c":1}]},"__proto__":{"x":1}}') as Record<string, unknown>);
    for (const o of objectsOf(value)) expect(Object.isFrozen(o)).toBe(true);
    const copy = jsonCopy(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
  });
});
