// The PodDisruptionBudget check of the eviction subresource (Kubernetes' EvictionREST): a pod that is
// not running yet, finished or already going is evicted freely; otherwise its budget must allow one
// more disruption, which is taken (disruptionsAllowed - 1, the pod in disruptedPods) before the
// delete, or the eviction is refused with 429 TooManyRequests for the caller (kubectl drain) to retry.
import { rfc3339, type Clock } from '../../api/clock.js';
import { ForbiddenError, TooManyRequestsError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import { isHealthy } from '../controllers/disruption/pdb-plan.js';
import { matchesSelector } from '../controllers/selector-match.js';
import type { PodDisruptionBudget } from '../resources/kinds/policy.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';

const REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Takes one disruption from the pod's budget (unless the pod may go regardless); throws 429/403 when it may not. */
export async function takeDisruption(resources: ResourceStore, clock: Clock, pod: Pod, dryRun: boolean): Promise<void> {
  const phase = pod.status?.phase;
  if (pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || phase === undefined) return;
  const budgets = (await resources.list<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets, { namespace: pod.metadata.namespace })).items
    .filter((pdb) => matchesSelector(pdb.spec.selector, pod.metadata.labels));
  if (budgets.length === 0) return;
  if (budgets.length > 1) throw new ForbiddenError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const pdb = budgets[0]!;
  const name = pdb.metadata.name!;
  const status = pdb.status;
  if (!isHealthy(pod)) {
    // an unhealthy pod only costs the budget nothing when the budget is met (IfHealthyBudget) or never (AlwaysAllow)
    if (pdb.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow' || (status && status.currentHealthy >= status.desiredHealthy)) return;
  }
  const check = (p: PodDisruptionBudget) => {
    if (!p.status || (p.status.observedGeneration ?? 0) < (p.metadata.generation ?? 1)) {
      throw new TooManyRequestsError(REFUSED, [{ reason: 'DisruptionBudget', message: `The disruption budget ${name} is still being processed by the server.` }]);
    }
    if (p.status.disruptionsAllowed < 0) throw new ForbiddenError('pdb disruptions allowed is negative');
    if (p.status.disruptionsAllowed === 0) {
      throw new TooManyRequestsError(REFUSED, [{
        reason: 'DisruptionBudget', message: `The disruption budget ${name} needs ${p.status.desiredHealthy} healthy pods and has ${p.status.currentHealthy} currently`,
      }]);
    }
  };
  if (dryRun) {
    check(pdb);
    return;
  }
  await resources.mutate<PodDisruptionBudget>(resourceTypes.poddisruptionbudgets, pdb.metadata.namespace, name, (p) => {
    check(p);
    const s = p.status!;
    return {
      ...p,
      status: { ...s, disruptionsAllowed: s.disruptionsAllowed - 1, disruptedPods: { ...s.disruptedPods, [pod.metadata.name!]: rfc3339(clock.now()) } },
    };
  }, { subresource: 'status' });
}
