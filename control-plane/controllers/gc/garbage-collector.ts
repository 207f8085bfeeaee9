// The garbage collector: keeps a graph of owner references from watches of every kind, and reconciles
// one object at a time (planGarbageCollection): dependents of deleted owners are deleted, Orphan
// releases them, Foreground deletes them before the owner goes. Owners are always re-read from the
// store before anything is deleted, so a graph that is still filling can never cause a deletion.
import { NotFoundError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/types/meta.js';
import { allResourceTypes, type ResourceType } from '../../resources/resource-types.js';
import { inBatches } from '../batches.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';
import { FOREGROUND, planGarbageCollection, type OwnerState } from './gc-plan.js';

interface Node { type: ResourceType; namespace: string | undefined; name: string; owners: string[]; refs: string }

const SKIPPED = new Set(['events']);
const keyOf = (type: ResourceType, obj: KubeObject) => `${type.plural}.${type.group}|${obj.metadata.namespace ?? ''}|${obj.metadata.name}`;

export class GarbageCollector extends Controller {
  readonly #byUid = new Map<string, Node & { key: string }>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #types = allResourceTypes.filter((t) => !SKIPPED.has(t.plural) && !t.storageVersion);

  constructor(ctx: ControllerContext) {
    super(ctx, 'garbage-collector', 4);
  }

  start(): void {
    for (const type of this.#types) {
      this.watch<KubeObject>(type, (event, obj) => this.#observe(type, event, obj));
    }
  }

  #observe(type: ResourceType, event: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const uid = obj.metadata.uid!;
    const key = keyOf(type, obj);
    const before = this.#byUid.get(uid);
    for (const owner of before?.owners ?? []) this.#dependents.get(owner)?.delete(key);
    if (event === 'DELETED') {
      this.#byUid.delete(uid);
      for (const dependent of this.#dependents.get(uid) ?? []) this.enqueue(dependent);
      // an owner waiting in the foreground may now be free to go
      for (const owner of obj.metadata.ownerReferences ?? []) {
        const o = this.#byUid.get(owner.uid);
        if (o) this.enqueue(o.key);
      }
      return;
    }
    const owners = (obj.metadata.ownerReferences ?? []).map((r) => r.uid);
    const refs = owners.length ? JSON.stringify(obj.metadata.ownerReferences) : '';
    this.#byUid.set(uid, { key, type, namespace: obj.metadata.namespace, name: obj.metadata.name!, owners, refs });
    for (const owner of owners) {
      let set = this.#dependents.get(owner);
      if (!set) this.#dependents.set(owner, (set = new Set()));
      set.add(key);
    }
    // as kube's graph builder: an update that keeps the owner references and deletes nothing changes
    // no decision (a lost owner enqueues its dependents when it goes); a Lease renewal or a pod status
    // is not a garbage collection
    const unchanged = event === 'MODIFIED' && before !== undefined && before.refs === refs && !obj.metadata.deletionTimestamp;
    if ((owners.length || obj.metadata.deletionTimestamp) && !unchanged) this.enqueue(key);
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(FOREGROUND)) {
      for (const dependent of this.#dependents.get(uid) ?? []) this.enqueue(dependent);
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const [typeId, ns, name] = key.split('|') as [string, string, string];
    const type = this.#types.find((t) => `${t.plural}.${t.group}` === typeId);
    if (!type) return;
    const namespace = ns || undefined;
    const obj = await this.ctx.resources.get<KubeObject>(type, namespace, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!obj) return;
    const owners = new Map<string, OwnerState>();
    for (const ref of obj.metadata.ownerReferences ?? []) owners.set(ref.uid, await this.#ownerState(ref, namespace));
    const dependents = [...(this.#dependents.get(obj.metadata.uid!) ?? [])];
    const plan = planGarbageCollection(obj, owners, dependents);
    const { resources } = this.ctx;
    switch (plan.action) {
      case 'none':
        return;
      case 'delete':
        await resources.delete(type, namespace, name, { preconditions: { uid: obj.metadata.uid! } }).catch(ignoreNotFound);
        return;
      case 'dropOwners':
        await resources.mutate<KubeObject>(type, namespace, name, (o) => ({
          ...o, metadata: { ...o.metadata, ownerReferences: (o.metadata.ownerReferences ?? []).filter((r) => !plan.uids.includes(r.uid)) },
        })).catch(ignoreNotFound);
        return;
      case 'orphanDependents':
        await inBatches(plan.dependents, 8, (d) => this.#withDependent(d, (t, dns, dname) => resources.mutate<KubeObject>(t, dns, dname, (o) => ({
          ...o, metadata: { ...o.metadata, ownerReferences: (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== obj.metadata.uid) },
        }))));
        return { requeueAfterMs: 0 };
      case 'deleteDependents': {
        const errors = await inBatches(plan.dependents, 8, (d) => this.#withDependent(d, (t, dns, dname) => resources.delete(t, dns, dname)));
        if (errors.length) throw errors[0];
        return { requeueAfterMs: 1000 };
      }
      case 'removeFinalizer':
        await resources.mutate<KubeObject>(type, namespace, name, (o) => ({
          ...o, metadata: { ...o.metadata, finalizers: (o.metadata.finalizers ?? []).filter((f) => f !== plan.finalizer) },
        })).catch(ignoreNotFound);
        return;
    }
  }

  async #withDependent(key: string, work: (type: ResourceType, namespace: string | undefined, name: string) => Promise<unknown>): Promise<void> {
    const [typeId, ns, name] = key.split('|') as [string, string, string];
    const type = this.#types.find((t) => `${t.plural}.${t.group}` === typeId);
    if (type) await work(type, ns || undefined, name).catch(ignoreNotFound);
  }

  /** Reads the owner from the store (never from the graph alone). Unknown kinds count as present. */
  async #ownerState(ref: { apiVersion: string; kind: string; name: string; uid: string }, namespace: string | undefined): Promise<OwnerState> {
    const type = this.#types.find((t) => t.kind === ref.kind && t.apiVersion === ref.apiVersion)
      ?? this.#types.find((t) => t.kind === ref.kind);
    if (!type) return 'present';
    const owner = await this.ctx.resources.get<KubeObject>(type, type.namespaced ? namespace : undefined, ref.name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!owner || owner.metadata.uid !== ref.uid) return 'absent';
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND)) return 'deletingForeground';
    return 'present';
  }
}

function ignoreNotFound(error: Error): void {
  if (!(error instanceof NotFoundError)) throw error;
}

