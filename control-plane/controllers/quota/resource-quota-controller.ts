// The ResourceQuota controller: status.hard mirrors spec.hard and status.used counts the namespace's
// objects (what `kubectl describe quota` shows); admission itself counts live objects.
import { NotFoundError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/types/meta.js';
import type { ResourceQuota } from '../../resources/kinds/policy.js';
import { quotaTracks } from '../../resources/quota-scopes.js';
import { formatAmount, totalUsage, typeForQuotaKey } from '../../resources/quota-usage.js';
import { resourceTypes, type ResourceType } from '../../resources/resource-types.js';
import { stableStringify } from '../../resources/stable-stringify.js';
import { Controller, type ControllerContext } from '../controller-base.js';
import { objectKeyOf, splitKey } from '../controller-ref.js';
import type { ReconcileResult } from '../work-queue.js';

/** Kinds whose changes recount quotas at once; others are recounted on a resync. */
const WATCHED = [resourceTypes.pods, resourceTypes.services, resourceTypes.persistentvolumeclaims, resourceTypes.configmaps, resourceTypes.secrets];
const RESYNC_MS = 30_000;

export class ResourceQuotaController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'resourcequota-controller', 1);
  }

  start(): void {
    this.watch<ResourceQuota>(resourceTypes.resourcequotas, (_t, q) => this.enqueue(objectKeyOf(q)));
    for (const type of WATCHED) {
      this.watch<KubeObject>(type, (_t, obj) => {
        const namespace = obj.metadata.namespace;
        if (!namespace) return;
        void this.ctx.resources.list<ResourceQuota>(resourceTypes.resourcequotas, { namespace })
          .then((l) => l.items.forEach((q) => this.enqueue(objectKeyOf(q)))).catch(() => undefined);
      });
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { resources } = this.ctx;
    const { namespace, name } = splitKey(key);
    const quota = await resources.get<ResourceQuota>(resourceTypes.resourcequotas, namespace, name).catch((e: Error) => {
      if (!(e instanceof NotFoundError)) throw e;
      return undefined;
    });
    if (!quota) return;
    const hard = quota.spec?.hard ?? {};
    const keys = Object.keys(hard).sort();
    const types = new Set(keys.map(typeForQuotaKey).filter((t): t is ResourceType => t !== undefined));
    const objects: Array<{ type: ResourceType; obj: KubeObject }> = [];
    for (const type of types) for (const obj of (await resources.list<KubeObject>(type, { namespace })).items) if (quotaTracks(quota, type, obj)) objects.push({ type, obj });
    const used = totalUsage(keys, objects);
    const status = { hard: { ...hard }, used: Object.fromEntries(keys.map((k) => [k, formatAmount(k, used[k]!)])) };
    if (stableStringify(status) !== stableStringify(quota.status ?? {})) {
      await resources.mutate<ResourceQuota>(resourceTypes.resourcequotas, namespace, name, (q) => ({ ...q, status }), { subresource: 'status' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
    if ([...types].some((t) => !WATCHED.includes(t))) return { requeueAfterMs: RESYNC_MS };
  }
}
