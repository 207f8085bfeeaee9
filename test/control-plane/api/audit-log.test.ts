// The audit log: mutating requests (allowed or refused, impersonated or not) as JSON lines under the
// audit dir, reads not recorded, bodies never; rotated by size with a bounded number of files.
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../../control-plane/api/audit-log.js';
import { openRbacApi, type Caller, type RbacApi } from '../support/rbac-api.js';
import { aPod } from '../support/test-resources.js';

const lines = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);

describe('audit log', () => {
  let dir: string;
  let audit: AuditLog;
  let api: RbacApi;
  let alice: Caller;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-audit-'));
    audit = new AuditLog(join(dir, 'audit'));
    api = await openRbacApi({ audit });
    alice = api.as({ name: 'alice' });
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records who did what and how it ended, refusals and impersonation included, without bodies', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'hunter2-very-secret' } };
    expect((await api.admin('POST', '/api/v1/namespaces/default/secrets', secret)).status).toBe(201);
    expect((await api.admin('GET', '/api/v1/namespaces/default/secrets/db')).status).toBe(200);
    expect((await alice('POST', '/api/v1/namespaces/default/pods', aPod('p'))).status).toBe(403);
    expect((await api.admin('DELETE', '/api/v1/namespaces/default/secrets/db', undefined, { 'Impersonate-User': 'bob' })).status).toBe(403);
    await audit.flush();
    const path = join(dir, 'audit', 'audit.log');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).not.toContain('hunter2');
    const entries = await lines(path);
    expect(entries.map((e) => [e.user.username, e.verb, e.resource?.resource, e.resource?.name ?? '', e.code])).toEqual([
      ['admin', 'create', 'secrets', '', 201],
      ['alice', 'create', 'pods', '', 403],
      ['bob', 'delete', 'secrets', 'db', 403],
    ]);
    expect(entries[2]).toMatchObject({ impersonatedBy: { username: 'admin', groups: ['system:masters', 'system:authenticated'] }, resource: { namespace: 'default' }, requestURI: '/api/v1/namespaces/default/secrets/db' });
    expect(entries[0]!.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(new Set(entries.map((e) => e.auditID)).size).toBe(3);
  });

  it('rotates by size and keeps a bounded number of files', async () => {
    const small = new AuditLog(join(dir, 'small'), { maxBytes: 2000, maxFiles: 2 });
    const entry = (i: number): AuditEntry => ({ ts: '2026-01-01T00:00:00Z', auditID: `id-${i}`, user: { username: 'u', groups: [] }, verb: 'create', method: 'POST', requestURI: '/api/v1/namespaces/default/pods', code: 201 });
    for (let i = 0; i < 100; i++) small.record(entry(i));
    await small.flush();
    expect((await readdir(join(dir, 'small'))).sort()).toEqual(['audit.log', 'audit.log.1', 'audit.log.2']);
    for (const f of ['audit.log', 'audit.log.1', 'audit.log.2']) expect((await stat(join(dir, 'small', f))).size).toBeLessThanOrEqual(2000);
    const newest = await lines(join(dir, 'small', 'audit.log'));
    expect(newest.at(-1)!.auditID).toBe('id-99');
  });

  it('writes a burst of records (batched into few appends) complete and in order', async () => {
    const log = new AuditLog(join(dir, 'burst'));
    const entry = (i: number): AuditEntry => ({ ts: '2026-01-01T00:00:00Z', auditID: `id-${i}`, user: { username: 'u', groups: [] }, verb: 'create', method: 'POST', requestURI: '/x', code: 201 });
    for (let i = 0; i < 300; i++) log.record(entry(i));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 300; i < 500; i++) log.record(entry(i));
    await log.flush();
    expect((await lines(join(dir, 'burst', 'audit.log'))).map((e) => e.auditID)).toEqual(Array.from({ length: 500 }, (_, i) => `id-${i}`));
  });
});
