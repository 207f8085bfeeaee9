// Typed Kubernetes object access over the Store: defaulting, validation, optimistic concurrency, deletion rules.
import { randomUUID } from 'node:crypto';
import { customAlphabet } from 'nanoid';
import { systemClock, rfc3339, type Clock } from '../../api/clock.js';
import { jsonCopy } from '../../api/deep-freeze.js';
import { AlreadyExistsError, BadRequestError, ConflictError, ExpiredError, ForbiddenError, NotFoundError, ValidationError } from '../../api/errors.js';
import type { KubeList, KubeObject } from '../../api/types/meta.js';
import { yieldIfBusy } from '../flow-control/event-loop-turns.js';
import { CompactedError, KeyExistsError, KeyNotFoundError, RevisionMismatchError, type Store } from '../store/store.js';
import { AdmissionReads } from './admission-reads.js';
import { checkPreconditions, planDeletion } from './deletion-plan.js';
import { matchesFields, parseFieldSelector, rawFieldPrefilter, rawNodeNameNeedle } from './field-selector.js';
import { matchesLabels, parseLabelSelector, rawLabelPrefilter } from './label-selector.js';
import { applyDefaults, type DefaultingOptions } from './object-defaults.js';
import type { DefaultTolerationSeconds } from './pod-defaults.js';
import { writtenPart, type UpdateSubresource } from './update-merge.js';
import { updateOnce, type UpdateContext } from './resource-update.js';
import { validateCreate } from './object-validation.js';
import { collectionPrefix, decodeContinue, decodeObject, encodeContinue, encodeObject, objectKey, sharedObject } from './resource-keys.js';
import { resourceTypes, type ResourceType } from './resource-types.js';
import { startResourceWatch, type WatchEventType, type WatchOptions } from './resource-watch.js';
import type { Service } from './kinds/services.js';
import { ServiceAllocator } from './service-allocation.js';
import { admitPersistentVolumeClaim } from './storage-admission.js';
import { admitPodServiceAccount, serviceAccountLookup } from './service-account-admission.js';
import { applyNamespaceDefaults, enforceNamespacePolicies, type NamespaceLister } from './policy-admission.js';
import { assertNestingDepth } from './nesting-depth.js';
import { KeyedLock } from './quota-ledger.js';
import type { PriorityClass } from './kinds/scheduling.js';
import { admitPodPriority, admitPriorityClass, assertDeletablePriorityClass } from './priority-admission.js';
import { assertFieldTypes } from './schema/check-field-types.js';
import { fromStorage, storageTypeOf, toStorage } from './version-conversion.js';

export type { WatchEventType, WatchOptions } from './resource-watch.js';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** In-process readers that never change what they get (informers, watches): the shared frozen objects, not copies. */
  shared?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface UpdateOptions {
  /** 'status' writes only status; 'finalize' (namespaces) only spec.finalizers; 'binding' (pods) spec.nodeName, annotations and status. */
  subresource?: UpdateSubresource;
  dryRun?: boolean;
}

export interface ResourceStoreOptions {
  clock?: Clock;
  uid?: () => string;
  /** The random suffix of names made from metadata.generateName (tests). */
  nameSuffix?: () => string;
  /** How often watches with allowBookmarks get a BOOKMARK (default 15 s). */
  bookmarkIntervalMs?: number;
  /** Where Service cluster IPs come from (default 10.43.0.0/16). */
  serviceCidr?: string;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to every pod (default 300 s). */
  defaultTolerationSeconds?: DefaultTolerationSeconds;
}

/** A write this store made: `put` with the object as written, `delete` with the object as it was. */
export type WriteListener = (type: ResourceType, kind: 'put' | 'delete', obj: KubeObject) => void;

const generatedSuffix = customAlphabet('bcdfghjklmnpqrstvwxz2456789', 5);
const maxConflictRetries = 20;
const maxGenerateNameAttempts = 8;

export class ResourceStore {
  readonly store: Store;
  readonly #clock: Clock;
  readonly #defaulting: DefaultingOptions;
  readonly #uid: () => string;
  readonly #nameSuffix: () => string;
  readonly #bookmarkIntervalMs: number;
  readonly #services: ServiceAllocator;
  readonly #quotaLedger = new KeyedLock();
  readonly #writeListeners = new Set<WriteListener>();
  readonly #admissionReads: AdmissionReads;
  readonly #updates: UpdateContext;

  constructor(store: Store, options: ResourceStoreOptions = {}) {
    this.store = store;
    this.#services = new ServiceAllocator(store, options.serviceCidr);
    this.#admissionReads = new AdmissionReads(store);
    this.#clock = options.clock ?? systemClock;
    this.#uid = options.uid ?? randomUUID;
    this.#nameSuffix = options.nameSuffix ?? generatedSuffix;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 15_000;
    this.#defaulting = options.defaultTolerationSeconds ? { tolerationSeconds: options.defaultTolerationSeconds } : {};
    this.#updates = {
      store, defaulting: this.#defaulting, services: this.#services, priorityClasses: this.#priorityClasses,
      wrote: (type, kind, obj) => this.#wrote(type, kind, obj), released: (type, obj) => this.#released(type, obj),
    };
  }

  async create<T extends KubeObject>(type: ResourceType, obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    if (type.storageVersion) return fromStorage(type, await this.create(storageTypeOf(type), toStorage(type, obj), opts));
    assertNestingDepth(obj, 'the object');
    const o = structuredClone(obj);
    setTypeMeta(type, o);
    assertFieldTypes(type, o); // before defaulting, which assumes the types are right
    const meta = (o.metadata ??= {});
    if (!type.namespaced) delete meta.namespace;
    const isNameGenerated = !meta.name && Boolean(meta.generateName);
    if (isNameGenerated) meta.name = `${meta.generateName}${this.#nameSuffix()}`;
    try {
      return await this.#createNamed(type, o, isNameGenerated, opts);
    } catch (e) {
      // admission refuses a generated name by its prefix, as the real server (which names it later) does
      throw isNameGenerated && e instanceof ForbiddenError ? new ForbiddenError(e.message.replace(`"${meta.name}" is forbidden`, `"${meta.generateName}" is forbidden`),
        e.details && { ...e.details, name: meta.generateName ?? '' }) : e;
    }
  }

  async #createNamed<T extends KubeObject>(type: ResourceType, o: T, isNameGenerated: boolean, opts: { dryRun?: boolean }): Promise<T> {
    const meta = o.metadata;
    for (const f of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'] as const) delete (meta as Record<string, unknown>)[f];
    meta.uid = this.#uid();
    meta.creationTimestamp = rfc3339(this.#clock.now());
    meta.generation = 1;
    applyDefaults(type, o, this.#defaulting);
    if (type === resourceTypes.persistentvolumeclaims) await admitPersistentVolumeClaim(o as never, (t) => this.list(t));
    // NamespaceLifecycle runs before the ServiceAccount plugin: a pod for a missing namespace is a 404, not a wait
    if (type === resourceTypes.pods) await this.#requireActiveNamespace(meta.namespace ?? '').then(() => admitPodServiceAccount(o as never, serviceAccountLookup(this, this.#clock)));
    await applyNamespaceDefaults(type, o, this.#listNamespace);
    await admitPodPriority(type, o, this.#priorityClasses);
    if (type === resourceTypes.priorityclasses) await admitPriorityClass(o as unknown as PriorityClass, this.#priorityClasses);
    validateCreate(type, o);
    if (type.namespaced) await this.#requireActiveNamespace(meta.namespace ?? '');
    // with quotas in the namespace, admission and the write hold the namespace's ledger lock
    const namespace = meta.namespace ?? '';
    const release = type.namespaced && !opts.dryRun && (await this.#listNamespace(resourceTypes.resourcequotas, namespace)).length
      ? await this.#quotaLedger.acquire(namespace) : undefined;
    try {
      return await this.#admitAndCreate(type, o, isNameGenerated, opts);
    } finally {
      release?.();
    }
  }

  async #admitAndCreate<T extends KubeObject>(type: ResourceType, o: T, isNameGenerated: boolean, opts: { dryRun?: boolean }): Promise<T> {
    const meta = o.metadata;
    await enforceNamespacePolicies(type, o, this.#listNamespace);
    const allocation = isService(type) ? await this.#services.reserve(o as unknown as Service, undefined, opts.dryRun) : undefined;
    if (opts.dryRun) return o;
    for (let attempt = 1; ; attempt++) {
      try {
        const revision = await this.store.create(objectKey(type, meta.namespace, meta.name ?? ''), encodeObject(o));
        meta.resourceVersion = String(revision);
        this.#wrote(type, 'put', o);
        return o;
      } catch (err) {
        // A generated name that is taken gets another suffix, as the real server retries (7 times).
        if (err instanceof KeyExistsError && isNameGenerated && !allocation && attempt < maxGenerateNameAttempts) {
          meta.name = `${meta.generateName}${this.#nameSuffix()}`;
          continue;
        }
        await allocation?.rollback();
        if (err instanceof KeyExistsError) throw new AlreadyExistsError(ref(type, meta.name), { cause: err });
        throw err;
      }
    }
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    if (type.storageVersion) return fromStorage(type, await this.get<T>(storageTypeOf(type), namespace, name));
    const kv = await this.store.get(objectKey(type, namespace, name));
    if (!kv) throw new NotFoundError(ref(type, name));
    return decodeObject<T>(kv);
  }

  async list<T extends KubeObject>(type: ResourceType, opts: ListOptions = {}): Promise<KubeList<T>> {
    if (type.storageVersion) {
      const stored = await this.list<T>(storageTypeOf(type), opts);
      return { ...stored, apiVersion: type.apiVersion, items: stored.items.map((o) => fromStorage(type, o)) };
    }
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(type, opts.fieldSelector);
    const byFields = rawFieldPrefilter(fields);
    const byLabels = rawLabelPrefilter(labels);
    const prefilter = byFields && byLabels ? (json: string) => byFields(json) && byLabels(json) : byFields ?? byLabels;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    // a node's pods (the desired publisher, kubectl get pods --field-selector spec.nodeName=N) from the watch cache's index
    const containing = limit === undefined && type === resourceTypes.pods ? rawNodeNameNeedle(fields) : undefined;
    // `app=x`, `tier in (a,b)`: the watch cache's label index gives the candidates instead of a scan
    const labelHints = labels.requirements.flatMap((r) => (r.op === 'in' ? [{ key: r.key, values: r.values }] : []));
    const token = opts.continue ? decodeContinue(opts.continue) : undefined;
    let revision = token?.rv;
    let startKey = token?.start;
    const items: T[] = [];
    let decoded = 0;
    let continueFrom: string | undefined;
    try {
      for (;;) {
        const page = await this.store.list(collectionPrefix(type, opts.namespace), {
          revision, limit, startKey, ...(containing ? { containing } : {}), ...(labelHints.length ? { labels: labelHints } : {}),
        });
        revision = page.revision;
        for (const [i, kv] of page.items.entries()) {
          // decoding a big list is the longest step of a read: requests and signals get turns in between
          // (every 256 decoded objects; a prefiltered skip costs a string search, so every 4,096 of those)
          if (i % 4096 === 4095) await yieldIfBusy();
          if (prefilter && !prefilter(kv.value)) continue;
          if ((++decoded & 255) === 0) await yieldIfBusy();
          const obj = opts.shared ? sharedObject<T>(kv) : decodeObject<T>(kv);
          if (!matchesLabels(labels, obj.metadata.labels) || !matchesFields(fields, obj)) continue;
          items.push(obj);
          if (limit !== undefined && items.length >= limit) {
            // The next page starts just after this key ("\0" sorts before any longer key).
            if (i < page.items.length - 1 || page.more) continueFrom = `${kv.key}\0`;
            break;
          }
        }
        if (continueFrom !== undefined || !page.more || (limit !== undefined && items.length >= limit)) break;
        startKey = page.nextKey;
      }
    } catch (err) {
      if (err instanceof CompactedError) {
        throw new ExpiredError('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.', undefined, { cause: err });
      }
      throw err;
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(revision ?? 0) };
    if (continueFrom !== undefined) metadata.continue = encodeContinue({ rv: revision ?? 0, start: continueFrom });
    return { apiVersion: type.apiVersion, kind: type.listKind, metadata, items };
  }

  async update<T extends KubeObject>(type: ResourceType, obj: T, opts: UpdateOptions = {}): Promise<T> {
    if (type.storageVersion) return fromStorage(type, await this.update(storageTypeOf(type), toStorage(type, obj), opts));
    assertNestingDepth(obj, 'the object');
    assertFieldTypes(type, obj);
    const name = obj.metadata?.name;
    if (!name) throw new ValidationError({ kind: type.kind }, [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value' }]);
    const namespace = type.namespaced ? obj.metadata.namespace : undefined;
    const key = objectKey(type, namespace, name);
    const expected = obj.metadata.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw new NotFoundError(ref(type, name));
      const current = decodeObject<T>(kv);
      if (expected && expected !== current.metadata.resourceVersion) throw new ConflictError(ref(type, name));
      try {
        return await updateOnce(this.#updates, { type, key, kv, current, incoming: obj, ...opts });
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw new NotFoundError(ref(type, name), { cause: err });
        if (!(err instanceof RevisionMismatchError)) throw err;
        if (expected || attempt >= maxConflictRetries) throw new ConflictError(ref(type, name), undefined, { cause: err });
      }
    }
  }

  /**
   * Read-modify-write with retry on conflict (for controllers). `fn` gets a copy; returning undefined
   * skips the write. One read per try: the value read is both what `fn` sees and what guards the write.
   * What comes back when nothing was written is the stored object every reader shares (frozen).
   */
  async mutate<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string,
    fn: (current: T) => T | undefined, opts: { subresource?: UpdateSubresource } = {}): Promise<T> {
    if (type.storageVersion) return this.#mutateConverted(type, namespace, name, fn, opts);
    const key = objectKey(type, type.namespaced ? namespace : undefined, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw new NotFoundError(ref(type, name));
      // the object this value's informers and watches share (parsed once); `fn` gets its own copy
      const current = sharedObject<T>(kv);
      const next = fn(jsonCopy(current));
      if (!next) return current;
      // only what the write takes from `next` is checked: the rest is the stored, checked object
      const written = writtenPart(next, opts.subresource);
      assertNestingDepth(written, 'the object');
      assertFieldTypes(type, written);
      next.metadata = { ...next.metadata, resourceVersion: current.metadata.resourceVersion };
      try {
        return await updateOnce(this.#updates, { type, key, kv, current, incoming: next, ...opts, owned: true });
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw new NotFoundError(ref(type, name), { cause: err });
        if (!(err instanceof RevisionMismatchError) || attempt >= maxConflictRetries) {
          throw err instanceof RevisionMismatchError ? new ConflictError(ref(type, name), undefined, { cause: err }) : err;
        }
      }
    }
  }

  /** mutate for kinds served in another version than stored: through get and update, which convert. */
  async #mutateConverted<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string,
    fn: (current: T) => T | undefined, opts: { subresource?: UpdateSubresource }): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(type, namespace, name);
      const next = fn(structuredClone(current));
      if (!next) return current;
      next.metadata = { ...next.metadata, resourceVersion: current.metadata.resourceVersion };
      try {
        return await this.update(type, next, opts);
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= maxConflictRetries) throw err;
      }
    }
  }

  async delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    if (type.storageVersion) return fromStorage(type, await this.delete<T>(storageTypeOf(type), namespace, name, opts));
    assertDeletablePriorityClass(type, name);
    const key = objectKey(type, namespace, name);
    for (;;) {
      const kv = await this.store.get(key);
      if (!kv) throw new NotFoundError(ref(type, name));
      const current = decodeObject<T>(kv);
      checkPreconditions(type, current, opts.preconditions);
      const plan = planDeletion(type, current, opts.gracePeriodSeconds, this.#clock.now(), opts.propagationPolicy);
      if (plan.action === 'unchanged') return current;
      if (opts.dryRun) return plan.action === 'mark' ? (plan.object as T) : current;
      try {
        if (plan.action === 'mark') {
          const revision = await this.store.update(key, encodeObject(plan.object), kv.modRevision);
          plan.object.metadata.resourceVersion = String(revision);
          this.#wrote(type, 'put', plan.object);
          return plan.object as T;
        }
        await this.store.delete(key, kv.modRevision);
        await this.#released(type, current);
        this.#wrote(type, 'delete', current);
        return current;
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw new NotFoundError(ref(type, name), { cause: err });
        if (!(err instanceof RevisionMismatchError)) throw err;
      }
    }
  }

  watch<T extends KubeObject>(type: ResourceType, opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: T) => void, onError: (err: Error) => void): { cancel(): void } {
    if (type.storageVersion) {
      const convert = (t: WatchEventType, o: T): T => (t === 'ERROR' ? o : t === 'BOOKMARK' ? { ...o, apiVersion: type.apiVersion } : fromStorage(type, o));
      return this.watch<T>(storageTypeOf(type), opts, (t, o) => onEvent(t, convert(t, o)), onError);
    }
    return startResourceWatch<T>({
      store: this.store, type, opts, onEvent, onError, clock: this.#clock, bookmarkIntervalMs: this.#bookmarkIntervalMs,
      list: (listOpts) => this.list<T>(type, { ...listOpts, shared: true }),
    });
  }

  /** Calls `listener` after every write this store makes (informers apply their own process's writes at once). */
  onWrite(listener: WriteListener): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  #wrote(type: ResourceType, kind: 'put' | 'delete', obj: KubeObject): void {
    for (const listener of this.#writeListeners) {
      try {
        listener(type, kind, obj);
      } catch {
        // a listener's failure is its own; the write happened
      }
    }
  }

  /** Frees what an object held outside its own key once it is gone (Service IPs and node ports). */
  async #released(type: ResourceType, obj: KubeObject): Promise<void> {
    if (isService(type)) await this.#services.release(obj as unknown as Service);
  }

  // admission on every pod create: LimitRanges, ResourceQuotas and PriorityClasses, decoded once per change
  readonly #priorityClasses = async () => [...await this.#admissionReads.list<PriorityClass>(resourceTypes.priorityclasses)];

  readonly #listNamespace: NamespaceLister = async (type, namespace) => type === resourceTypes.limitranges || type === resourceTypes.resourcequotas
    ? [...await this.#admissionReads.list(type, namespace)] : (await this.list(type, { namespace })).items;

  async #requireActiveNamespace(namespace: string): Promise<void> {
    const kv = await this.store.get(objectKey(resourceTypes.namespaces, undefined, namespace));
    if (!kv) throw new NotFoundError(ref(resourceTypes.namespaces, namespace));
    if (this.#admissionReads.isTerminating(kv)) {
      throw new ForbiddenError(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }
}

const isService = (type: ResourceType) => type === resourceTypes.services;

const ref = (type: ResourceType, name: string | undefined) => ({ group: type.group || undefined, kind: type.plural, name });

function setTypeMeta(type: ResourceType, obj: KubeObject): void {
  if ((obj.kind && obj.kind !== type.kind) || (obj.apiVersion && obj.apiVersion !== type.apiVersion)) {
    throw new BadRequestError(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${type.apiVersion}) or kind ${obj.kind} is not ${type.kind}`);
  }
  obj.apiVersion = type.apiVersion;
  obj.kind = type.kind;
}
