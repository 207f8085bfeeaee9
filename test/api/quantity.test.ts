import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes, parseMillicores, parseQuantity } from '../../api/quantity.js';

describe('quantities', () => {
  it('parses binary, decimal and exponent suffixes', () => {
    expect(parseBytes('128Mi')).toBe(128 * 2 ** 20);
    expect(parseBytes('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseMillicores('250m')).toBe(250);
    expect(parseMillicores('1.5')).toBe(1500);
    expect(parseMillicores('0.1')).toBe(100);
  });
  it('rejects what is not a quantity', () => {
    expect(() => parseQuantity('12 MB')).toThrow(/regular expression/);
    expect(() => parseQuantity('abc')).toThrow();
  });
  it('formats bytes in the largest exact binary unit', () => {
    expect(formatBytes(2 ** 30)).toBe('1Gi');
    expect(formatBytes(3 * 2 ** 20)).toBe('3Mi');
    expect(formatBytes(1536)).toBe('1536') ;
  });
});

describe('one quantity grammar', () => {
  it('is exact for validation (no blanks, Kubernetes suffixes and exponents) and forgiving of blanks for flags', async () => {
    const { quantityValue } = await import('../../api/quantity.js');
    expect(quantityValue('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(quantityValue('2e3')).toBe(2000);
    expect(quantityValue('100m')).toBeCloseTo(0.1);
    for (const bad of [' 1', '1 ', '1KB', '', 'Mi', '1.2.3']) expect(quantityValue(bad), bad).toBeUndefined();
    expect(parseQuantity(' 64Mi ')).toBe(64 * 2 ** 20);
    expect(() => parseQuantity('1KB')).toThrow('quantities must match');
  });
});
