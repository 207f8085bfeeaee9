// One try of an update against the value just read from the store: merge (by subresource), default,
// admit, validate, skip a no-op, write guarded by the read revision. ResourceStore.update and
// ResourceStore.mutate loop over it; a RevisionMismatchError (a write in between) makes them read
// again. Each step looks at the decoded objects once: no re-serialising to compare (sameJson), and
// no copy of an object the caller handed over as its own (`owned`, what mutate builds).
import type { KubeObject } from '../../api/types/meta.js';
import { KeyNotFoundError, RevisionMismatchError, type KeyValue, type Store } from '../store/store.js';
import type { PriorityClass } from './kinds/scheduling.js';
import type { Service } from './kinds/services.js';
import { isFinalized } from './deletion-plan.js';
import { applyDefaults, type DefaultingOptions } from './object-defaults.js';
import { validateUpdate } from './object-validation.js';
import { admitPriorityClass, keepPodPriority } from './priority-admission.js';
import { encodeObject } from './resource-keys.js';
import { resourceTypes, type ResourceType } from './resource-types.js';
import { sameJson } from './same-json.js';
import { carryOverAllocations, type ServiceAllocator } from './service-allocation.js';
import { mergeForUpdate, specChanged, type UpdateSubresource } from './update-merge.js';

export interface UpdateContext {
  store: Store;
  defaulting: DefaultingOptions;
  services: ServiceAllocator;
  priorityClasses: () => Promise<PriorityClass[]>;
  /** Tells the write listeners (informers) about a write. */
  wrote(type: ResourceType, kind: 'put' | 'delete', obj: KubeObject): void;
  /** Frees what a removed object held outside its key. */
  released(type: ResourceType, obj: KubeObject): Promise<void>;
}

export interface UpdateTry<T extends KubeObject> {
  type: ResourceType;
  key: string;
  /** The stored value `current` was decoded from (its modRevision guards the write). */
  kv: KeyValue;
  current: T;
  incoming: T;
  subresource?: UpdateSubresource;
  dryRun?: boolean;
  /** `incoming` is the caller's to give away (built for this write alone): it is not copied. */
  owned?: boolean;
}

/** The object written, or `current` when nothing changed. Throws RevisionMismatchError / KeyNotFoundError from the store. */
export async function updateOnce<T extends KubeObject>(ctx: UpdateContext, t: UpdateTry<T>): Promise<T> {
  const { type, current, subresource } = t;
  const next = mergeForUpdate(type, current, t.incoming, subresource, t.owned);
  if (!subresource) applyDefaults(type, next, ctx.defaulting);
  if (isService(type) && !subresource) carryOverAllocations(current as unknown as Service, next as unknown as Service);
  if (!subresource) keepPodPriority(type, current, next);
  if (type === resourceTypes.priorityclasses) await admitPriorityClass(next as unknown as PriorityClass, ctx.priorityClasses);
  validateUpdate(type, current, next);
  if (specChanged(current, next)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
  const removing = Boolean(next.metadata.deletionTimestamp) && isFinalized(type, next);
  if (!removing && sameJson(stored(next), stored(current))) return current;
  const allocation = isService(type) && !subresource
    ? await ctx.services.reserve(next as unknown as Service, current as unknown as Service, t.dryRun) : undefined;
  if (t.dryRun) return next;
  try {
    const revision = await ctx.store.update(t.key, encodeObject(next), t.kv.modRevision);
    next.metadata.resourceVersion = String(revision);
    if (allocation) await allocation.commit();
    // Removing the last finalizer of an object being deleted completes its deletion.
    if (removing) {
      await ctx.store.delete(t.key, revision).catch(ignoreGone);
      await ctx.released(type, next);
    }
    ctx.wrote(type, removing ? 'delete' : 'put', next);
    return next;
  } catch (err) {
    await allocation?.rollback();
    throw err;
  }
}

/** What the store holds of an object: everything but metadata.resourceVersion (encodeObject leaves it out). */
const stored = (obj: KubeObject): KubeObject => ({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } });

const isService = (type: ResourceType) => type === resourceTypes.services;

function ignoreGone(err: unknown): void {
  if (!(err instanceof KeyNotFoundError) && !(err instanceof RevisionMismatchError)) throw err;
}
