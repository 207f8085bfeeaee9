import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseIpv4Cidr, parseMaskSize } from '../../cli/flags.js';

describe('--cluster-cidr and --node-cidr-mask-size', () => {
  it('takes IPv4 CIDRs of /8 or longer written with clear host bits', () => {
    expect(parseIpv4Cidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(parseIpv4Cidr('10.42.0.0/16')).toBe('10.42.0.0/16');
    expect(() => parseIpv4Cidr('10.42.1.0/16')).toThrow(/did you mean 10\.42\.0\.0\/16/);
    for (const bad of ['10.0.0.0/7', 'fd00::/48', '10.0.0.0', '10.0.0.0/33', '300.0.0.0/8', '../10.0.0.0/8', 'x'.repeat(5000)]) {
      expect(() => parseIpv4Cidr(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('takes prefix lengths from 8 to 30', () => {
    expect(parseMaskSize('24')).toBe(24);
    expect(parseMaskSize('26')).toBe(26);
    for (const bad of ['7', '31', '24.5', '-24', '', '0x18', '1e1']) expect(() => parseMaskSize(bad)).toThrow(InvalidArgumentError);
  });
});
