// The ServiceAccounts controller: every active namespace has a ServiceAccount named `default`
// (created when the namespace appears, and again if it is deleted), as kube-controller-manager's.
import { AlreadyExistsError, ForbiddenError, NotFoundError } from '../../../api/errors.js';
import type { Namespace } from '../../../api/types/node.js';
import type { ServiceAccount } from '../../resources/kinds/config.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export class ServiceAccountController extends Controller {
  constructor(ctx: ControllerContext) {
    super(ctx, 'serviceaccount-controller', 1);
  }

  start(): void {
    this.watch<Namespace>(resourceTypes.namespaces, (type, ns) => {
      if (type !== 'DELETED' && !ns.metadata.deletionTimestamp) this.enqueue(ns.metadata.name!);
    });
    this.watch<ServiceAccount>(resourceTypes.serviceaccounts, (type, sa) => {
      if (type === 'DELETED' && sa.metadata.name === DEFAULT_SERVICE_ACCOUNT) this.enqueue(sa.metadata.namespace!);
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const { resources } = this.ctx;
    const ns = await resources.get<Namespace>(resourceTypes.namespaces, undefined, namespace).catch((e: Error) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!ns || ns.metadata.deletionTimestamp) return;
    const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } };
    await resources.create(resourceTypes.serviceaccounts, sa).catch((e: Error) => {
      // already there, or the namespace began terminating meanwhile
      if (!(e instanceof AlreadyExistsError) && !(e instanceof ForbiddenError) && !(e instanceof NotFoundError)) throw e;
    });
  }
}
