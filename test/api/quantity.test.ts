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
