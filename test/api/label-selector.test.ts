import { describe, expect, it } from 'vitest';
import { matchesLabelSelector, type LabelSelectorSpec } from '../../api/label-selector.js';
import { matchesSelector, selectorToString } from '../../control-plane/controllers/selector-match.js';
import { matchesLabels, parseLabelSelector } from '../../control-plane/resources/label-selector.js';
import { matchesLabelSelector as resourcesMatcher } from '../../control-plane/resources/selector-object.js';
import { seededRandom } from '../support/seeded-random.js';

describe('the one label-selector matcher (Kubernetes semantics)', () => {
  it('an absent selector selects nothing, an empty one everything, an empty query everything', () => {
    for (const match of [matchesLabelSelector, matchesSelector, resourcesMatcher]) {
      expect(match(undefined, { app: 'web' })).toBe(false);
      expect(match(undefined, undefined)).toBe(false);
      expect(match({}, { app: 'web' })).toBe(true);
      expect(match({}, undefined)).toBe(true);
    }
    expect(matchesLabels(parseLabelSelector(undefined), { app: 'web' })).toBe(true);
    expect(matchesLabels(parseLabelSelector(''), undefined)).toBe(true);
  });

  it('an operator Kubernetes does not know selects nothing', () => {
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'app', operator: 'Like', values: ['web'] }] }, { app: 'web' })).toBe(false);
  });

  it('matches as its query-string form does, for seeded random selectors and label sets', () => {
    const next = seededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const keys = ['app', 'tier', 'zone', 'example.com/team'];
    const values = ['a', 'b', 'c'];
    for (let i = 0; i < 2_000; i++) {
      const selector: LabelSelectorSpec = {};
      if (next() < 0.6) selector.matchLabels = Object.fromEntries(keys.filter(() => next() < 0.3).map((k) => [k, pick(values)]));
      if (next() < 0.6) {
        selector.matchExpressions = keys.filter(() => next() < 0.3).map((key) => {
          const operator = pick(['In', 'NotIn', 'Exists', 'DoesNotExist']);
          return operator === 'In' || operator === 'NotIn' ? { key, operator, values: values.filter(() => next() < 0.5).concat(pick(values)) } : { key, operator };
        });
      }
      const labels = Object.fromEntries(keys.filter(() => next() < 0.5).map((k) => [k, pick(values)]));
      const expected = matchesLabels(parseLabelSelector(selectorToString(selector as Parameters<typeof selectorToString>[0])), labels);
      expect(matchesLabelSelector(selector, labels), `${JSON.stringify(selector)} ${JSON.stringify(labels)}`).toBe(expected);
    }
  });
});
