import { describe, expect, it } from 'vitest';
import { planEvictions, planNodeTaints } from '../../../control-plane/controllers/nodelifecycle/taint-plan.js';
import { RateLimiter, ZoneTainter } from '../../../control-plane/controllers/nodelifecycle/zone-tainter.js';
import { aNode, aPod } from '../../support/builders.js';
import { T0 } from './workload-builders.js';

const unknownNode = () => {
  const n = aNode('n1');
  n.status!.conditions = [{ type: 'Ready', status: 'Unknown' }];
  return n;
};

describe('node taints and evictions', () => {
  it('taints an unreachable node NoSchedule at once, NoExecute once let through, and clears the taints when it is Ready again', () => {
    expect(planNodeTaints(unknownNode(), T0, false)!.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    const taints = planNodeTaints(unknownNode(), T0, true)!;
    expect(taints.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    const tainted = { ...unknownNode(), spec: { ...unknownNode().spec, taints } };
    expect(planNodeTaints(tainted, T0 + 1000, true)).toBeUndefined();
    // no longer let through (every zone down): the NoExecute taint goes, the NoSchedule one stays
    expect(planNodeTaints(tainted, T0 + 1000, false)!.map((t) => t.effect)).toEqual(['NoSchedule']);
    // not-ready now: the key follows the condition at once, with a new timeAdded
    const notReady = { ...tainted, status: { conditions: [{ type: 'Ready', status: 'False' as const }] } };
    expect(planNodeTaints(notReady, T0 + 2000, true)!.map((t) => `${t.key}:${t.effect}:${t.timeAdded}`)).toEqual([
      `node.kubernetes.io/not-ready:NoSchedule:${new Date(T0 + 2000).toISOString().replace('.000', '')}`,
      `node.kubernetes.io/not-ready:NoExecute:${new Date(T0 + 2000).toISOString().replace('.000', '')}`,
    ]);
    const ready = { ...aNode('n1'), spec: { ...aNode('n1').spec, taints } };
    expect(planNodeTaints(ready, T0, true)).toEqual([]);
  });

  it('evicts pods once their tolerationSeconds run out, untolerating pods at once, and never those tolerating forever', () => {
    const node = { ...unknownNode(), spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: new Date(T0).toISOString() }] } };
    const tolerating = (name: string, seconds?: number) => aPod(name, { nodeName: 'n1', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }] });
    const pods = [aPod('bare', { nodeName: 'n1' }), tolerating('short', 5), tolerating('forever')];
    const now = planEvictions(node, pods, T0 + 1000);
    expect(now.evict.map((p) => p.metadata.name)).toEqual(['bare']);
    expect(now.nextAtMs).toBe(T0 + 5000);
    expect(planEvictions(node, pods, T0 + 5000).evict.map((p) => p.metadata.name)).toEqual(['bare', 'short']);
  });

  it('limits the taint rate with a token bucket; rate 0 lets nothing through', () => {
    const limiter = new RateLimiter(2, 1, T0);
    expect(limiter.take(T0).ok).toBe(true);
    expect(limiter.take(T0)).toEqual({ ok: false, waitMs: 500 });
    expect(limiter.take(T0 + 500).ok).toBe(true);
    expect(new RateLimiter(0, 1, T0).take(T0 + 1e9).ok).toBe(false);
  });

  it('a zone queue lets one node through, then one per 1/rate s; a swap from an empty bucket starts empty (SwapLimiter)', () => {
    const tainter = new ZoneTainter(0.1);
    const through: string[] = [];
    const take = (at: number) => tainter.take(T0 + at, (n) => through.push(n));
    for (const n of ['a', 'b', 'c', 'd']) tainter.add('z', n, T0);
    take(0);
    expect(through).toEqual(['a']);
    take(9_900);
    expect(through).toEqual(['a']);
    take(10_000);
    expect(through).toEqual(['a', 'b']);
    tainter.swap('z', 0.01, T0 + 10_000); // the 0.1 bucket is empty: the 0.01 one starts empty
    take(20_000);
    expect(through).toEqual(['a', 'b']);
    take(110_000);
    expect(through).toEqual(['a', 'b', 'c']);
    tainter.remove('d');
    take(1_000_000);
    expect(through).toEqual(['a', 'b', 'c']);
    expect(tainter.queued).toBe(0);
  });
});
