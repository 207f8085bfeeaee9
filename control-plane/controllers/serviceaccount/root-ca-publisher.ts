// The root CA publisher (kube-controller-manager's root-ca-cert-publisher): every active namespace
// has the ConfigMap kube-root-ca.crt whose `ca.crt` is the cluster CA, annotated with
// kubernetes.io/description as the real one; recreated when deleted, rewritten when changed. Pods
// read it through their kube-api-access volume (ca.crt next to their token).
import { AlreadyExistsError, ConflictError, ForbiddenError, NotFoundError } from '../../../api/errors.js';
import type { Namespace } from '../../../api/types/node.js';
import type { ConfigMap } from '../../resources/kinds/config.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { ROOT_CA_CONFIGMAP } from '../../resources/service-account-admission.js';
import { Controller, type ControllerContext } from '../../reconcile/controller.js';

const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCaPublisher extends Controller {
  constructor(ctx: ControllerContext, private readonly caCert: string) {
    super(ctx, 'root-ca-cert-publisher', 1);
  }

  start(): void {
    this.watch<Namespace>(resourceTypes.namespaces, (type, ns) => {
      if (type !== 'DELETED' && !ns.metadata.deletionTimestamp) this.enqueue(ns.metadata.name!);
    });
    this.watch<ConfigMap>(resourceTypes.configmaps, (type, cm) => {
      if (cm.metadata.name !== ROOT_CA_CONFIGMAP) return;
      if (type === 'DELETED' || cm.data?.['ca.crt'] !== this.caCert) this.enqueue(cm.metadata.namespace!);
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const { resources } = this.ctx;
    const ignore = (e: Error) => {
      // the namespace is gone or terminating, or another writer got there first (the watch brings us back)
      if (!(e instanceof AlreadyExistsError) && !(e instanceof ForbiddenError) && !(e instanceof NotFoundError) && !(e instanceof ConflictError)) throw e;
      return undefined;
    };
    const ns = await resources.get<Namespace>(resourceTypes.namespaces, undefined, namespace).catch(ignore);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const current = await resources.get<ConfigMap>(resourceTypes.configmaps, namespace, ROOT_CA_CONFIGMAP).catch(ignore);
    const annotations = { 'kubernetes.io/description': DESCRIPTION };
    if (!current) {
      const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations }, data: { 'ca.crt': this.caCert } };
      await resources.create(resourceTypes.configmaps, cm).catch(ignore);
      return;
    }
    if (current.data?.['ca.crt'] === this.caCert && Object.keys(current.data).length === 1) return;
    await resources.update(resourceTypes.configmaps, {
      ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...annotations } }, data: { 'ca.crt': this.caCert },
    }).catch(ignore);
  }
}
