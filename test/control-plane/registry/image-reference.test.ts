import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../../control-plane/registry/image-reference.js';

describe('image references', () => {
  it('reads NAME, NAME:TAG and NAME@DIGEST', () => {
    expect(parseImageReference('examples/hello')).toEqual({ kind: 'tag', name: 'examples/hello', tag: 'latest' });
    expect(parseImageReference('examples/hello:v2')).toEqual({ kind: 'tag', name: 'examples/hello', tag: 'v2' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`examples/hello@${digest}`)).toEqual({ kind: 'digest', name: 'examples/hello', digest });
  });
  it('rejects malformed references', () => {
    for (const bad of ['', 'UPPER/case', 'a:b:c', 'x@sha256:123', 'a//b']) expect(() => parseImageReference(bad)).toThrow(/invalid image reference/);
  });
});
