// The namespace controller: a namespace being deleted (Terminating) has everything in it deleted,
// and once nothing is left its spec.finalizers are emptied (finalize subresource), which removes it.
import { NotFoundError } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/types/meta.js';
import type { Namespace } from '../../../api/types/node.js';
import { allResourceTypes, resourceTypes } from '../../resources/resource-types.js';
import { inBatches } from '../batches.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';
import type { ReconcileResult } from '../../reconcile/work-queue.js';

export class NamespaceController extends Controller {
  readonly #types = allResourceTypes.filter((t) => t.namespaced && !t.storageVersion);

  constructor(ctx: ControllerContext) {
    super(ctx, 'namespace-controller');
  }

  start(): void {
    this.watch<Namespace>(resourceTypes.namespaces, (type, ns) => {
      if (type !== 'DELETED' && ns.metadata.deletionTimestamp) this.enqueue(ns.metadata.name!);
    });
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const { resources } = this.ctx;
    const ns = await resources.get<Namespace>(resourceTypes.namespaces, undefined, name).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const type of this.#types) {
      const items = (await resources.list<KubeObject>(type, { namespace: name })).items;
      remaining += items.length;
      const errors = await inBatches(items.filter((o) => !o.metadata.deletionTimestamp), 16, (o) =>
        resources.delete(type, name, o.metadata.name!, { preconditions: { uid: o.metadata.uid! } }).catch((e: Error) => {
          if (!(e instanceof NotFoundError)) throw e;
        }));
      if (errors.length) throw errors[0];
    }
    if (remaining > 0) {
      // what is left is finishing (pods stopping on their nodes, finalizers): look again soon
      const left = await this.#countLeft(name);
      if (left > 0) return { requeueAfterMs: 1000 };
    }
    if ((ns.spec?.finalizers ?? []).length) {
      await resources.mutate<Namespace>(resourceTypes.namespaces, undefined, name, (n) => ({ ...n, spec: { ...n.spec, finalizers: [] } }), { subresource: 'finalize' })
        .catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
    }
  }

  async #countLeft(namespace: string): Promise<number> {
    let n = 0;
    for (const type of this.#types) n += (await this.ctx.resources.list(type, { namespace, limit: 1 })).items.length;
    return n;
  }
}
