import { describe, expect, it } from 'vitest';
import { sameJson } from '../../../control-plane/resources/same-json.js';
import { stableStringify } from '../../../control-plane/resources/stable-stringify.js';
import { seededRandom } from '../support/fuzz-corpus.js';

/** The answer sameJson replaces: equal JSON text once keys are sorted (after a JSON round trip). */
const reference = (a: unknown, b: unknown) => stableStringify(roundTrip(a)) === stableStringify(roundTrip(b));
const roundTrip = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v) ?? 'null'));

describe('sameJson', () => {
  it('ignores key order and properties that JSON leaves out', () => {
    expect(sameJson({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameJson({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, gone: undefined, f: () => 1 })).toBe(true);
    expect(sameJson([undefined, 1], [null, 1])).toBe(true);
    expect(sameJson({ n: Number.NaN }, { n: null })).toBe(true);
    expect(sameJson({ at: new Date(0) }, { at: '1970-01-01T00:00:00.000Z' })).toBe(true);
  });

  it('tells apart what JSON tells apart', () => {
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(sameJson({ a: 1, b: null }, { a: 1 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson({ a: { b: { c: [1, { d: true }] } } }, { a: { b: { c: [1, { d: false }] } } })).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson({ a: undefined, b: 1 }, { a: 1 })).toBe(false);
  });

  it('agrees with sorted-key JSON text on seeded random values and their near copies (fuzz)', () => {
    const random = seededRandom(1307);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const leaf = (): unknown => pick([null, true, false, 0, -0, 1, 1.5, Number.NaN, Infinity, '', 'a', '1', undefined, new Date(0)]);
    const value = (depth: number): unknown => {
      const r = random();
      if (depth <= 0 || r < 0.35) return leaf();
      if (r < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth - 1));
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) obj[pick(['a', 'b', 'c', 'd', '0', 'toString'])] = value(depth - 1);
      return obj;
    };
    /** A copy with keys reordered, and now and then one change somewhere (or an undefined added). */
    const nearCopy = (v: unknown): unknown => {
      if (random() < 0.08) return value(2);
      if (Array.isArray(v)) return v.map(nearCopy);
      if (v === null || typeof v !== 'object' || v instanceof Date) return v;
      const entries = Object.entries(v).map(([k, x]) => [k, nearCopy(x)] as const).sort(() => random() - 0.5);
      if (random() < 0.1) entries.push([pick(['a', 'e', 'z']), undefined]);
      return Object.fromEntries(entries);
    };
    let same = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = value(5);
      const b = nearCopy(a);
      const expected = reference(a, b);
      if (expected) same++;
      expect(sameJson(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(expected);
      expect(sameJson(b, a)).toBe(expected);
    }
    // both answers are exercised
    expect(same).toBeGreaterThan(2000);
    expect(same).toBeLessThan(19_000);
  });
});
