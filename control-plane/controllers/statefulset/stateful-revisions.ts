// A StatefulSet's ControllerRevisions: one per template it has had, named `<set>-<hash>`, holding
// the template as the strategic merge patch `kubectl rollout undo` applies; the update revision is
// the current template's, the current revision the one status.currentRevision names.
import { AlreadyExistsError, NotFoundError } from '../../../api/errors.js';
import type { ResourceStore } from '../../resources/resource-store.js';
import { resourceTypes } from '../../resources/resource-types.js';
import { controllerRefOf, newControllerRef } from '../controller-ref.js';
import { templateHash, templatesEqual } from '../pod-template.js';
import type { ControllerRevision, PodTemplateSpec, StatefulSet } from '../workload-kinds.js';
import { REVISION_LABEL } from './stateful-plan.js';

export interface StatefulRevisions {
  current: ControllerRevision;
  update: ControllerRevision;
}

export function templateOfRevision(revision: ControllerRevision): PodTemplateSpec {
  const template = structuredClone((revision.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec?.template
    ?? { spec: { containers: [] } });
  delete template.$patch;
  return template;
}

/** Ensures the update revision exists (and is the newest), prunes history no pod uses; returns current and update. */
export async function syncStatefulRevisions(resources: ResourceStore, sts: StatefulSet, revisionsInUse: ReadonlySet<string>): Promise<StatefulRevisions> {
  const type = resourceTypes.controllerrevisions;
  const namespace = sts.metadata.namespace!;
  const revisions = (await resources.list<ControllerRevision>(type, { namespace })).items.filter((r) => controllerRefOf(r)?.uid === sts.metadata.uid);
  const maxRevision = revisions.reduce((m, r) => Math.max(m, r.revision), 0);
  let update = revisions.find((r) => templatesEqual(templateOfRevision(r), sts.spec.template));
  if (update && update.revision < maxRevision) {
    update = await resources.mutate<ControllerRevision>(type, namespace, update.metadata.name!, (r) => ({ ...r, revision: maxRevision + 1 }));
  } else if (!update) {
    const hash = templateHash(sts.spec.template, sts.status?.collisionCount ?? 0);
    const fresh: ControllerRevision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name: `${sts.metadata.name}-${hash}`, namespace,
        labels: { ...sts.spec.template.metadata?.labels, [REVISION_LABEL]: hash },
        ...(sts.metadata.annotations ? { annotations: { ...sts.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(sts)],
      },
      data: { spec: { template: { ...structuredClone(sts.spec.template), $patch: 'replace' } } },
      revision: maxRevision + 1,
    };
    update = await resources.create(type, fresh).catch(async (e: Error) => {
      if (!(e instanceof AlreadyExistsError)) throw e;
      return resources.get<ControllerRevision>(type, namespace, fresh.metadata.name!);
    });
  }
  const current = revisions.find((r) => r.metadata.name === sts.status?.currentRevision) ?? update;
  const keep = new Set([current.metadata.name, update.metadata.name, ...revisionsInUse]);
  const limit = sts.spec.revisionHistoryLimit ?? 10;
  const history = revisions.filter((r) => !keep.has(r.metadata.name)).sort((a, b) => a.revision - b.revision);
  for (const r of history.slice(0, Math.max(0, history.length - limit))) {
    await resources.delete(type, namespace, r.metadata.name!).catch((e: Error) => { if (!(e instanceof NotFoundError)) throw e; });
  }
  return { current, update };
}
