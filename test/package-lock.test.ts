import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('package-lock.json', () => {
  it('has an entry for every optional platform package, so npm ci accepts it (docs/decisions/003)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/complete-lockfile.mjs', '--check']);
    expect(stdout).toContain('the lock is complete');
  });
});
