// The controller manager: starts every controller over one ResourceStore and stops them together.
import { CronJobController } from './cronjob/cronjob-controller.js';
import { DaemonSetController } from './daemonset/daemonset-controller.js';
import { DisruptionController } from './disruption/disruption-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { EndpointsController } from './endpoints/endpoints-controller.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring/mirroring-controller.js';
import { GarbageCollector } from './gc/garbage-collector.js';
import { HpaController, type HpaControllerOptions } from './hpa/hpa-controller.js';
import { NamespaceController } from './gc/namespace-controller.js';
import { JobController } from './job/job-controller.js';
import { NodeTaintController, type NodeTaintOptions } from './nodelifecycle/node-taint-controller.js';
import { ServiceLBController } from './servicelb/servicelb-controller.js';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.js';
import { RootCaPublisher } from './serviceaccount/root-ca-publisher.js';
import { ClusterRoleAggregationController } from './rbac/clusterrole-aggregation-controller.js';
import { ResourceQuotaController } from './quota/resource-quota-controller.js';
import { ReplicaSetController, replicationControllers } from './replicaset/replicaset-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { VolumeController } from './volume/volume-controller.js';
import type { Controller, ControllerContext } from '../reconcile/controller.js';
import { SharedInformers } from '../reconcile/shared-informers.js';

export interface ControllerManagerOptions extends ControllerContext {
  nodeTaints?: NodeTaintOptions;
  hpa?: HpaControllerOptions;
  /** PEM of the cluster CA: published as the ConfigMap kube-root-ca.crt in every namespace (absent: not published). */
  rootCaCert?: string;
}

export interface RunningControllers {
  controllers: readonly Controller[];
  /** Resolves when no controller has work queued or running (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): void;
}

/** How often a burst of child events may reconcile one owner (docs/decisions/046). */
export const OWNER_SYNC_INTERVAL_MS = 100;

export function startControllers(options: ControllerManagerOptions): RunningControllers {
  const informers = options.informers ?? new SharedInformers(options);
  const ctx: ControllerContext = {
    resources: options.resources, events: options.events, clock: options.clock, logger: options.logger, informers,
    ...(options.queueObserver ? { queueObserver: options.queueObserver } : {}),
    ...(options.ownerSyncIntervalMs ? { ownerSyncIntervalMs: options.ownerSyncIntervalMs } : {}),
  };
  const controllers: Controller[] = [
    new ReplicaSetController(ctx),
    new ReplicaSetController(ctx, replicationControllers),
    new DeploymentController(ctx),
    new DaemonSetController(ctx),
    new StatefulSetController(ctx),
    new JobController(ctx),
    new CronJobController(ctx),
    new EndpointsController(ctx),
    new EndpointSliceMirroringController(ctx),
    new GarbageCollector(ctx),
    new NamespaceController(ctx),
    new NodeTaintController(ctx, options.nodeTaints),
    new HpaController(ctx, options.hpa),
    new VolumeController(ctx),
    new ResourceQuotaController(ctx),
    new DisruptionController(ctx),
    new ClusterRoleAggregationController(ctx),
    new ServiceAccountController(ctx),
    new ServiceLBController(ctx),
    ...(options.rootCaCert ? [new RootCaPublisher(ctx, options.rootCaCert)] : []),
  ];
  for (const c of controllers) c.start();
  return {
    controllers,
    idle: async () => {
      await Promise.all(controllers.map((c) => c.idle()));
    },
    stop: () => {
      for (const c of controllers) c.stop();
      if (!options.informers) informers.stop();
    },
  };
}
