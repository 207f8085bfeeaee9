import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { startControllers, type RunningControllers } from '../../../control-plane/controllers/controller-manager.js';
import type { ReplicaSet } from '../../../control-plane/controllers/workload-kinds.js';
import { GarbageCollector } from '../../../control-plane/controllers/gc/garbage-collector.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });

const replicaSet = (name: string): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default' },
  spec: { replicas: 2, selector: { matchLabels: { rs: name } }, template: { metadata: { labels: { rs: name } }, spec: { containers: [{ name: 'main', image: 'x:1' }] } } },
});

describe('delete propagation (kubectl delete --cascade=background|foreground|orphan)', () => {
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

  const podsOf = async (name: string) => (await t.resources.list<Pod>(resourceTypes.pods, { namespace: 'default', labelSelector: `rs=${name}` })).items;
  const exists = (name: string) => t.resources.get(resourceTypes.replicasets, 'default', name).then(() => true, (e) => (e instanceof NotFoundError ? false : Promise.reject(e)));
  /** Waits until `done` holds, letting the controllers work; never sleeps on the clock. */
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      await controllers.idle();
      if (await done()) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('did not settle');
  };
  const withPods = async (name: string) => {
    await t.resources.create(resourceTypes.replicasets, replicaSet(name));
    await until(async () => (await podsOf(name)).length === 2);
  };

  it('orphans the pods of a ReplicaSet deleted with Orphan: they stay, without the owner', async () => {
    await withPods('keep');
    const marked = await t.resources.delete<ReplicaSet>(resourceTypes.replicasets, 'default', 'keep', { propagationPolicy: 'Orphan' });
    expect(marked.metadata.finalizers).toContain('orphan');
    await until(async () => !(await exists('keep')));
    const pods = await podsOf('keep');
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => (p.metadata.ownerReferences ?? []).length === 0)).toBe(true);
  });

  it('removes the pods before the ReplicaSet deleted with Foreground', async () => {
    await withPods('fg');
    const marked = await t.resources.delete<ReplicaSet>(resourceTypes.replicasets, 'default', 'fg', { propagationPolicy: 'Foreground' });
    expect(marked.metadata.finalizers).toContain('foregroundDeletion');
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    await until(async () => !(await exists('fg')));
    expect(await podsOf('fg')).toHaveLength(0);
  });

  it('removes a ReplicaSet deleted with Background at once, and its pods after', async () => {
    await withPods('bg');
    await t.resources.delete(resourceTypes.replicasets, 'default', 'bg', { propagationPolicy: 'Background' });
    expect(await exists('bg')).toBe(false);
    await until(async () => (await podsOf('bg')).length === 0);
  });

  it('does not reconcile a dependent again for an update that keeps its owner references (a status report, a Lease renewal)', async () => {
    await withPods('quiet');
    const pod = (await podsOf('quiet'))[0]!;
    const reconciled = vi.spyOn(GarbageCollector.prototype, 'reconcile');
    try {
      for (let i = 0; i < 20; i++) {
        await t.resources.mutate<Pod>(resourceTypes.pods, 'default', pod.metadata.name!, (p) => ({ ...p, status: { ...p.status, message: `report ${i}` } }), { subresource: 'status' });
      }
      await until(async () => true);
      const gcOfPod = reconciled.mock.calls.filter(([key]) => String(key).endsWith(`|default|${pod.metadata.name}`));
      expect(gcOfPod).toHaveLength(0);
      // an owner that goes still takes its dependents
      await t.resources.delete(resourceTypes.replicasets, 'default', 'quiet', { propagationPolicy: 'Background' });
      await until(async () => (await podsOf('quiet')).length === 0);
    } finally {
      reconciled.mockRestore();
    }
  });
});
