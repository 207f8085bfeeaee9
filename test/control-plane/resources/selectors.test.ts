import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../api/errors.js';
import { matchesFields, parseFieldSelector } from '../../../control-plane/resources/field-selector.js';
import { matchesLabels, parseLabelSelector } from '../../../control-plane/resources/label-selector.js';
import { quantityValue as parseQuantity } from '../../../api/quantity.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';

const labels = { app: 'web', tier: 'front' };
const matches = (selector: string, l: Record<string, string> = labels) => matchesLabels(parseLabelSelector(selector), l);

describe('label selectors', () => {
  it('match equality, inequality, sets and existence', () => {
    expect(matches('app=web')).toBe(true);
    expect(matches('app==web,tier=front')).toBe(true);
    expect(matches('app!=web')).toBe(false);
    expect(matches('missing!=x')).toBe(true);
    expect(matches('tier in (front, back)')).toBe(true);
    expect(matches('tier notin (front)')).toBe(false);
    expect(matches('app')).toBe(true);
    expect(matches('!app')).toBe(false);
    expect(matches('!legacy')).toBe(true);
    expect(matches('')).toBe(true);
  });

  it('reject malformed selectors with BadRequest', () => {
    for (const bad of ['app in (a', '=x', 'a,,b', 'bad key=1', 'app=bad value!']) {
      expect(() => parseLabelSelector(bad), bad).toThrow(BadRequestError);
    }
  });

  it('accept an empty value', () => {
    expect(matches('app=', { app: '' })).toBe(true);
  });
});

describe('field selectors', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'pi-1' }, status: { phase: 'Running' } };
  it('match supported pod fields', () => {
    const sel = (s: string) => matchesFields(parseFieldSelector(resourceTypes.pods, s), pod);
    expect(sel('spec.nodeName=pi-1,status.phase=Running')).toBe(true);
    expect(sel('spec.nodeName!=pi-1')).toBe(false);
    expect(sel('metadata.name==p')).toBe(true);
  });

  it('reject unsupported fields with BadRequest', () => {
    expect(() => parseFieldSelector(resourceTypes.pods, 'spec.foo=1')).toThrow('field label not supported: spec.foo');
    expect(() => parseFieldSelector(resourceTypes.nodes, 'involvedObject.name=x')).toThrow(BadRequestError);
  });
});

describe('quantities', () => {
  it('parse binary, decimal and exponent forms', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('64Mi')).toBe(64 * 1024 * 1024);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('2e3')).toBe(2000);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity('1Qi')).toBeUndefined();
  });
});
