import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { rfc3339 } from '../../../api/clock.js';
import { startControllers, type RunningControllers } from '../../../control-plane/controllers/controller-manager.js';
import type { Deployment, ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });

/** Marks every pending pod bound and Ready, like a scheduler and kubelet would. */
async function runPods(t: TestResources): Promise<number> {
  const pods = (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items;
  let changed = 0;
  for (const p of pods.filter((x) => !x.metadata.deletionTimestamp && x.status?.phase !== 'Running')) {
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', p.metadata.name!, (x) => ({ ...x, spec: { ...x.spec, nodeName: 'n1' } }));
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', p.metadata.name!, (x) => ({
      ...x, status: { ...x.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(t.clock.now()) }] },
    }), { subresource: 'status' });
    changed++;
  }
  // pods being deleted go at once (no node to stop them)
  for (const p of pods.filter((x) => x.metadata.deletionTimestamp)) {
    await t.resources.delete(resourceTypes.pods, 'default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
    changed++;
  }
  return changed;
}

async function settle(t: TestResources, controllers: RunningControllers, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await controllers.idle();
    if (await done()) return;
    if ((await runPods(t)) === 0) await new Promise((r) => setImmediate(r));
  }
  throw new Error('did not settle');
}

const deployment = (image: string): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image }] } } },
});

describe('Deployment and ReplicaSet controllers over the store', () => {
  let t: TestResources;
  let controllers: RunningControllers;
  beforeEach(async () => {
    t = await openTestResources();
    controllers = startControllers({ resources: t.resources, events: new EventRecorder(t.resources, t.clock, logger), clock: t.clock, logger });
  });
  afterEach(async () => {
    controllers.stop();
    await t.close();
  });

  const get = () => t.resources.get<Deployment>(resourceTypes.deployments, 'default', 'web');
  const replicaSets = async () => (await t.resources.list<ReplicaSet>(resourceTypes.replicasets, { namespace: 'default' })).items;
  const complete = async () => {
    const d = await get();
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) && s.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3;
  };

  it('rolls a new template out, keeps revisions, and reuses the old ReplicaSet on undo with the next revision', async () => {
    await t.resources.create(resourceTypes.deployments, deployment('img:v1'));
    await settle(t, controllers, complete);
    expect((await replicaSets()).map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'])).toEqual(['1']);

    await t.resources.mutate<Deployment>(resourceTypes.deployments, 'default', 'web', (d) => ({ ...d, spec: { ...d.spec, template: deployment('img:v2').spec.template } }));
    await settle(t, controllers, complete);
    const afterUpdate = await replicaSets();
    expect(afterUpdate.map((rs) => [rs.spec.template.spec.containers[0]!.image, rs.spec.replicas, rs.metadata.annotations?.['deployment.kubernetes.io/revision']]).sort())
      .toEqual([['img:v1', 0, '1'], ['img:v2', 3, '2']]);

    // kubectl rollout undo: the old template back, with creationTimestamp: null and empty resources
    await t.resources.mutate<Deployment>(resourceTypes.deployments, 'default', 'web', (d) => ({ ...d, spec: { ...d.spec, template: {
      metadata: { labels: { app: 'web' }, creationTimestamp: null }, spec: { containers: [{ name: 'main', image: 'img:v1', resources: {} }] } } } }));
    await settle(t, controllers, complete);
    const afterUndo = await replicaSets();
    expect(afterUndo).toHaveLength(2);
    expect(afterUndo.map((rs) => [rs.spec.template.spec.containers[0]!.image, rs.spec.replicas, rs.metadata.annotations?.['deployment.kubernetes.io/revision']]).sort())
      .toEqual([['img:v1', 3, '3'], ['img:v2', 0, '2']]);
    const pods = (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.filter((p) => !p.metadata.deletionTimestamp);
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.metadata.name!.startsWith(afterUndo.find((rs) => rs.spec.replicas === 3)!.metadata.name!))).toBe(true);
  });

  it('deletes the ReplicaSets and pods of a deleted Deployment (garbage collection)', async () => {
    await t.resources.create(resourceTypes.deployments, deployment('img:v1'));
    await settle(t, controllers, complete);
    await t.resources.delete(resourceTypes.deployments, 'default', 'web');
    await settle(t, controllers, async () => (await replicaSets()).length === 0
      && (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default' })).items.length === 0);
  });
});
