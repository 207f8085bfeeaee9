// Only a bound pod's change that may let a waiting pod fit sends it round again (kube-scheduler's
// QueueingHints for assigned pods): room freed on a node it fits, or a placed pod its required pod
// (anti-)affinity or topology spread counts. Every other deletion leaves it parked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { boundPodChange, boundPodChangeMayHelp, placedPodMayHelp } from '../../../control-plane/scheduler/pod-change-hints.js';
import { aNode, aPod as aBuiltPod } from '../../support/builders.js';
import { startSchedulerHarness, type SchedulerHarness } from '../support/scheduler-harness.js';
import { aPod } from '../support/test-resources.js';

const { pods, nodes } = resourceTypes;
const labelled = (pod: Pod, labels: Record<string, string>): Pod => ({ ...pod, metadata: { ...pod.metadata, labels } });
const withAffinity = (pod: Pod, kind: 'podAffinity' | 'podAntiAffinity', app: string): Pod => ({
  ...pod, spec: { ...pod.spec, affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }] } } },
});

describe('boundPodChange and its hints', () => {
  const node = aNode('n1', { pods: '1' });
  const running = { ...aBuiltPod('x', { nodeName: 'n1', requests: { cpu: '1' } }), status: { phase: 'Running' as const } };

  it('finds room freed by a deleted, finished or shrunk pod, and nothing in a status change', () => {
    expect(boundPodChange(running, undefined)).toMatchObject({ freedOn: 'n1', gone: running });
    expect(boundPodChange(running, { ...running, status: { phase: 'Succeeded' } })).toMatchObject({ freedOn: 'n1' });
    const smaller = aBuiltPod('x', { nodeName: 'n1', requests: { cpu: '500m' } });
    expect(boundPodChange(running, smaller)?.freedOn).toBe('n1');
    expect(boundPodChange(running, { ...running, status: { phase: 'Running', podIP: '10.42.1.2' } })).toBeUndefined();
    expect(boundPodChange(undefined, running)).toEqual({ came: running }); // bound: no room freed
  });

  it('says a freed node helps a waiting pod only when the pod now fits it', () => {
    const change = boundPodChange(running, undefined)!;
    const freed = { node, usageFor: () => ({ pods: 0, cpuMillis: 0, memoryBytes: 0 }), lowestPriority: () => Infinity };
    expect(boundPodChangeMayHelp(aBuiltPod('w'), change, freed)).toBe(true);
    expect(boundPodChangeMayHelp(aBuiltPod('w', { nodeSelector: { zone: 'b' } }), change, freed)).toBe(false);
    expect(boundPodChangeMayHelp(aBuiltPod('w', { requests: { cpu: '8' } }), change, freed)).toBe(false);
    // still full (another pod there): no, unless preemption may find room now (a lower-priority pod stays)
    const full = { ...freed, usageFor: () => ({ pods: 1, cpuMillis: 0, memoryBytes: 0 }) };
    expect(boundPodChangeMayHelp(aBuiltPod('w'), change, full)).toBe(false);
    const important = aBuiltPod('w');
    important.spec['priority'] = 100;
    const peer = { ...running, spec: { ...running.spec, priority: 100 } };
    const peerGone = boundPodChange(peer, undefined)!;
    expect(boundPodChangeMayHelp(important, peerGone, { ...full, lowestPriority: () => 0 })).toBe(true);
    expect(boundPodChangeMayHelp(important, peerGone, { ...full, lowestPriority: () => 100 })).toBe(false);
    // a lower-priority pod's room was preemption's to take already
    expect(boundPodChangeMayHelp(important, change, { ...full, lowestPriority: () => 0 })).toBe(false);
  });

  it('says a placed pod helps the waiting pods whose required (anti-)affinity or DoNotSchedule spread selects it', () => {
    const db = labelled(aBuiltPod('db', { nodeName: 'n1' }), { app: 'db' });
    const web = labelled(aBuiltPod('web', { nodeName: 'n1' }), { app: 'web' });
    expect(placedPodMayHelp(withAffinity(aBuiltPod('w'), 'podAffinity', 'db'), undefined, db)).toBe(true);
    expect(placedPodMayHelp(withAffinity(aBuiltPod('w'), 'podAffinity', 'db'), undefined, web)).toBe(false);
    expect(placedPodMayHelp(withAffinity(aBuiltPod('w'), 'podAntiAffinity', 'db'), db, undefined)).toBe(true);
    expect(placedPodMayHelp(withAffinity(aBuiltPod('w'), 'podAntiAffinity', 'db'), web, undefined)).toBe(false);
    // an existing pod's anti-affinity against the waiting pod (symmetry)
    expect(placedPodMayHelp(labelled(aBuiltPod('w'), { app: 'web' }), withAffinity(db, 'podAntiAffinity', 'web'), undefined)).toBe(true);
    const spread = (whenUnsatisfiable: string): Pod => ({ ...aBuiltPod('w'), spec: { ...aBuiltPod('w').spec, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable, labelSelector: { matchLabels: { app: 'db' } } }] } });
    expect(placedPodMayHelp(spread('DoNotSchedule'), db, undefined)).toBe(true);
    expect(placedPodMayHelp(spread('DoNotSchedule'), web, undefined)).toBe(false);
    expect(placedPodMayHelp(spread('ScheduleAnyway'), db, undefined)).toBe(false);
    expect(placedPodMayHelp(aBuiltPod('w'), db, web)).toBe(false);
  });
});

describe('the scheduler on bound pods\' changes', () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await startSchedulerHarness();
  });
  afterEach(() => h.stop());

  const create = (pod: Pod) => h.t.resources.create(pods, pod);
  const inZone = (pod: Pod, zone: string): Pod => ({ ...pod, spec: { ...pod.spec, nodeSelector: { zone } } });
  const setPhase = (name: string, phase: 'Running' | 'Succeeded') => h.t.resources.mutate<Pod>(pods, 'default', name, (p) => ({ ...p, status: { ...p.status, phase } }), { subresource: 'status' });

  it('sends a waiting pod round at once when room is freed on a node it fits, and not for other deletions', async () => {
    await h.t.resources.create(nodes, aNode('a1', { pods: '1', labels: { zone: 'a' } }));
    await h.t.resources.create(nodes, aNode('a2', { pods: '1', labels: { zone: 'a' } }));
    await h.t.resources.create(nodes, aNode('b1', { pods: '1', labels: { zone: 'b' } }));
    for (const [name, node] of [['x1', 'a1'], ['x2', 'a2'], ['x3', 'b1']] as const) await create(aPod(name, { nodeName: node }));
    await create(inZone(aPod('waiting'), 'a'));
    await h.until('waiting unschedulable', () => h.isUnschedulable('waiting'));
    await h.pastBackoff(); // so that a helpful event sends it round at once
    const before = h.attempts.unschedulable;
    // room freed where it cannot go, and a running pod's status: not a try each
    await h.t.resources.delete(pods, 'default', 'x3', { gracePeriodSeconds: 0 });
    await setPhase('x1', 'Running');
    await h.scheduler.idle();
    expect(h.attempts.unschedulable).toBe(before);
    // room freed where it fits: tried at once (no clock moved), bound there
    await h.t.resources.delete(pods, 'default', 'x1', { gracePeriodSeconds: 0 });
    expect(await h.nodeOf('waiting', true)).toBe('a1');
    // a pod that finishes frees its room too
    await create(inZone(aPod('second'), 'a'));
    await h.until('second unschedulable', () => h.isUnschedulable('second'));
    await h.pastBackoff();
    await setPhase('x2', 'Succeeded');
    expect(await h.nodeOf('second', true)).toBe('a2');
  });

  it('sends a pod waiting for pod affinity round when a pod it asks for is placed', async () => {
    await h.t.resources.create(nodes, aNode('n1'));
    await create(withAffinity(aPod('web'), 'podAffinity', 'db'));
    await h.until('web unschedulable', () => h.isUnschedulable('web'));
    await h.pastBackoff();
    await create(labelled(aPod('db', { nodeName: 'n1' }), { app: 'db' }));
    expect(await h.nodeOf('web', true)).toBe('n1');
  });

  it('does so too when the scheduler itself places that pod', async () => {
    await h.t.resources.create(nodes, aNode('n1'));
    await create(withAffinity(aPod('web'), 'podAffinity', 'db'));
    await h.until('web unschedulable', () => h.isUnschedulable('web'));
    await h.pastBackoff();
    await create(labelled(aPod('db'), { app: 'db' }));
    expect(await h.nodeOf('db', true)).toBe('n1');
    expect(await h.nodeOf('web', true)).toBe('n1');
  });
});
