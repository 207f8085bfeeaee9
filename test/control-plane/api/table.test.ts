import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { humanDuration } from '../../../control-plane/api/tables/human-duration.js';
import { podStatusReason } from '../../../control-plane/api/tables/pod-printer.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, tableAccept, type TestApi } from '../support/test-api.js';

let api: TestApi;
beforeAll(async () => {
  api = await openTestApi();
  await api.call('POST', '/api/v1/namespaces/default/pods', { body: aPod('web', { nodeName: 'pi-1' }) });
  api.clock.advance(65_000);
});
afterAll(async () => { await api.close(); });

type Table = { kind: string; columnDefinitions: Array<{ name: string; priority: number }>; rows: Array<{ cells: unknown[]; object?: any }> };

describe('Table output', () => {
  it('lists pods with kubectl columns, wide ones at priority 1, and PartialObjectMetadata rows', async () => {
    const res = await api.call('GET', '/api/v1/namespaces/default/pods?limit=500', { accept: tableAccept });
    const table = await res.json() as Table;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.columnDefinitions.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(expect.arrayContaining(['IP', 'Node']));
    expect(table.rows[0]?.cells.slice(0, 7)).toEqual(['web', '0/1', 'Pending', '0', '65s', '<none>', 'pi-1']);
    expect(table.rows[0]?.object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'web', namespace: 'default' } });
  });

  it('honours includeObject', async () => {
    const none = await (await api.call('GET', '/api/v1/pods?includeObject=None', { accept: tableAccept })).json() as Table;
    expect(none.rows[0]?.object).toBeUndefined();
    const full = await (await api.call('GET', '/api/v1/pods?includeObject=Object', { accept: tableAccept })).json() as Table;
    expect(full.rows[0]?.object).toMatchObject({ kind: 'Pod', spec: { nodeName: 'pi-1' } });
  });

  it('answers a single get with a one-row table and plain JSON when not asked', async () => {
    const one = await (await api.call('GET', '/api/v1/namespaces/default/pods/web', { accept: tableAccept })).json() as Table;
    expect(one.rows).toHaveLength(1);
    const plain = await (await api.call('GET', '/api/v1/namespaces/default/pods/web', { accept: 'application/json' })).json() as { kind: string };
    expect(plain.kind).toBe('Pod');
  });

  it('prints namespaces with Name, Status, Age', async () => {
    const table = await (await api.call('GET', '/api/v1/namespaces', { accept: tableAccept })).json() as Table;
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Status', 'Age']);
    expect(table.rows.map((r) => r.cells[0])).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(table.rows[0]?.cells[1]).toBe('Active');
  });
});

describe('pod STATUS column', () => {
  const pod = (status: Pod['status'], extra: Partial<Pod['metadata']> = {}): Pod => {
    const p = aPod('p');
    p.status = status;
    p.metadata = { ...p.metadata, ...extra };
    return p;
  };
  const container = (state: object, ready = false) => ({ name: 'main', image: 'x', imageID: '', ready, restartCount: 0, state });

  it('follows kubectl: waiting and terminated reasons override the phase', () => {
    expect(podStatusReason(pod({ phase: 'Pending' }))).toBe('Pending');
    expect(podStatusReason(pod({ phase: 'Pending', containerStatuses: [container({ waiting: { reason: 'ContainerCreating' } })] }))).toBe('ContainerCreating');
    expect(podStatusReason(pod({ phase: 'Pending', containerStatuses: [container({ waiting: { reason: 'ErrImagePull' } })] }))).toBe('ErrImagePull');
    expect(podStatusReason(pod({ phase: 'Running', containerStatuses: [container({ running: {} }, true)] }))).toBe('Running');
    expect(podStatusReason(pod({ phase: 'Running', containerStatuses: [container({ waiting: { reason: 'CrashLoopBackOff' } })] }))).toBe('CrashLoopBackOff');
    expect(podStatusReason(pod({ phase: 'Succeeded', containerStatuses: [container({ terminated: { exitCode: 0, reason: 'Completed' } })] }))).toBe('Completed');
    expect(podStatusReason(pod({ phase: 'Failed', containerStatuses: [container({ terminated: { exitCode: 1, reason: 'Error' } })] }))).toBe('Error');
    expect(podStatusReason(pod({ phase: 'Running', containerStatuses: [container({ terminated: { exitCode: 137, reason: 'OOMKilled' } })] }))).toBe('OOMKilled');
    expect(podStatusReason(pod({ phase: 'Failed', containerStatuses: [container({ terminated: { exitCode: 3 } })] }))).toBe('ExitCode:3');
    expect(podStatusReason(pod({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:00:00Z' }))).toBe('Terminating');
  });

  it('shows init container progress', () => {
    const p = pod({ phase: 'Pending', initContainerStatuses: [container({ running: {} })] });
    p.spec.initContainers = [{ name: 'init', image: 'x' }];
    expect(podStatusReason(p)).toBe('Init:0/1');
  });
});

describe('ages', () => {
  it('print like kubectl', () => {
    expect([5e3, 125e3, 600e3, 3 * 3600e3 + 60e3, 30 * 3600e3, 3 * 86400e3 + 3600e3, 40 * 86400e3].map(humanDuration))
      .toEqual(['5s', '2m5s', '10m', '3h1m', '30h', '3d1h', '40d']);
  });
});
