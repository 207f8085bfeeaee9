import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/types/meta.js';
import { planGarbageCollection, type OwnerState } from '../../../control-plane/controllers/gc/gc-plan.js';

const obj = (refs: string[], extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', uid: 'x', ownerReferences: refs.map((uid) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid })), ...extra },
});
const owners = (entries: Array<[string, OwnerState]>) => new Map(entries);

describe('planGarbageCollection', () => {
  it('deletes an object whose owners are all gone (background cascade)', () => {
    expect(planGarbageCollection(obj(['a']), owners([['a', 'absent']]), [])).toEqual({ action: 'delete' });
  });

  it('keeps an object with a live owner, dropping only the references to gone ones', () => {
    expect(planGarbageCollection(obj(['a', 'b']), owners([['a', 'absent'], ['b', 'present']]), [])).toEqual({ action: 'dropOwners', uids: ['a'] });
    expect(planGarbageCollection(obj(['b']), owners([['b', 'present']]), [])).toEqual({ action: 'none' });
  });

  it('deletes dependents of an owner deleted in the foreground before its finalizer goes', () => {
    const owner = obj([], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    expect(planGarbageCollection(owner, owners([]), ['pods||default|a'])).toEqual({ action: 'deleteDependents', dependents: ['pods||default|a'] });
    expect(planGarbageCollection(owner, owners([]), [])).toEqual({ action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
    expect(planGarbageCollection(obj(['o']), owners([['o', 'deletingForeground']]), [])).toEqual({ action: 'delete' });
  });

  it('releases the dependents of an owner deleted with Orphan, then lets it go', () => {
    const owner = obj([], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] });
    expect(planGarbageCollection(owner, owners([]), ['k'])).toEqual({ action: 'orphanDependents', dependents: ['k'] });
    expect(planGarbageCollection(owner, owners([]), [])).toEqual({ action: 'removeFinalizer', finalizer: 'orphan' });
  });
});
