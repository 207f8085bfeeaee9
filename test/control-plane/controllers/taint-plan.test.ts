import { describe, expect, it } from 'vitest';
import { planEvictions, planNodeTaints, RateLimiter } from '../../../control-plane/controllers/nodelifecycle/taint-plan.js';
import { aNode, aPod } from '../../support/builders.js';
import { T0 } from './workload-builders.js';

const unknownNode = () => {
  const n = aNode('n1');
  n.status!.conditions = [{ type: 'Ready', status: 'Unknown' }];
  return n;
};

describe('node taints and evictions', () => {
  it('taints an unreachable node NoExecute and NoSchedule, and clears the taints when it is Ready again', () => {
    const taints = planNodeTaints(unknownNode(), T0)!;
    expect(taints.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    const tainted = { ...unknownNode(), spec: { ...unknownNode().spec, taints } };
    expect(planNodeTaints(tainted, T0 + 1000)).toBeUndefined();
    const ready = { ...aNode('n1'), spec: { ...aNode('n1').spec, taints } };
    expect(planNodeTaints(ready, T0)).toEqual([]);
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

  it('limits the eviction rate with a token bucket', () => {
    const limiter = new RateLimiter(2, 1, T0);
    expect(limiter.take(T0).ok).toBe(true);
    expect(limiter.take(T0)).toEqual({ ok: false, waitMs: 500 });
    expect(limiter.take(T0 + 500).ok).toBe(true);
  });
});
