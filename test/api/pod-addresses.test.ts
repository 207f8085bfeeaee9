import { describe, expect, it } from 'vitest';
import { freePodCidrIndex, freePodIP, podCidrForIndex } from '../../api/pod-addresses.js';

describe('pod addresses', () => {
  it('gives each node the lowest free /24', () => {
    expect(freePodCidrIndex([])).toBe(1);
    expect(freePodCidrIndex([podCidrForIndex(1), podCidrForIndex(3), undefined])).toBe(2);
  });
  it('gives each pod the lowest free address of its node', () => {
    expect(freePodIP('10.42.2.0/24', [])).toBe('10.42.2.2');
    expect(freePodIP('10.42.2.0/24', ['10.42.2.2', '10.42.2.3'])).toBe('10.42.2.4');
    const all = Array.from({ length: 253 }, (_, i) => `10.42.2.${i + 2}`);
    expect(freePodIP('10.42.2.0/24', all)).toBeUndefined();
  });
});
