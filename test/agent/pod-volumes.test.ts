import { describe, expect, it } from 'vitest';
import { isHostPathAllowed } from '../../agent/pods/pod-volumes.js';

describe('hostPath allow-list', () => {
  it('allows a prefix and what is below it, nothing else', () => {
    expect(isHostPathAllowed('/srv/data', ['/srv/data'])).toBe(true);
    expect(isHostPathAllowed('/srv/data/app/x', ['/srv/data'])).toBe(true);
    expect(isHostPathAllowed('/srv/database', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('/srv/data/../../etc', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('srv/data', ['/srv/data'])).toBe(false);
    expect(isHostPathAllowed('/etc', [])).toBe(false);
  });
});
