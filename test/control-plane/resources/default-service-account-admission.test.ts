// The `default` ServiceAccount follows the real admission rule (docs/decisions/059): a pod running
// as `default` in a namespace that has none yet is looked up 10 times, 100-200 ms apart (on the
// injected clock), then refused in the real plugin's words; the ServiceAccount appearing meanwhile
// (the controller, moments after the namespace) admits it at once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { DEFAULT_SERVICE_ACCOUNT_ATTEMPTS } from '../../../control-plane/resources/service-account-admission.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('default ServiceAccount admission', () => {
  let t: TestResources;
  beforeEach(async () => {
    t = await openTestResources();
    await t.resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  });
  afterEach(() => t.close());

  /** Runs `create` while advancing the fake clock in 50 ms steps; returns its outcome and the clock time it took. */
  async function timed<T>(create: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
    const start = t.clock.now();
    let done = false;
    const outcome = create.then((value) => ({ value }), (error: unknown) => ({ error })).finally(() => { done = true; });
    for (let i = 0; i < 200 && !done; i++) {
      for (let j = 0; j < 5 && !done; j++) await settle();
      if (!done) t.clock.advance(50);
    }
    return { ...(await outcome), ms: t.clock.now() - start };
  }

  it('is admitted at once in the initial namespaces, whose default ServiceAccount exists from the start', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      expect((await t.resources.get(resourceTypes.serviceaccounts, ns, 'default')).metadata.name).toBe('default');
    }
    const created = await t.resources.create<Pod>(resourceTypes.pods, aPod('p'));
    expect(created.spec.serviceAccountName).toBe('default');
  });

  it('is refused after 10 lookups when the namespace has no default ServiceAccount', async () => {
    const { error, ms } = await timed(t.resources.create<Pod>(resourceTypes.pods, aPod('p', { namespace: 'team' })));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe('pods "p" is forbidden: error looking up service account team/default: serviceaccount "default" not found');
    // 9 pauses of 100-200 ms, as the real plugin (the 50 ms steps round up)
    expect(ms).toBeGreaterThanOrEqual((DEFAULT_SERVICE_ACCOUNT_ATTEMPTS - 1) * 100);
    expect(ms).toBeLessThanOrEqual((DEFAULT_SERVICE_ACCOUNT_ATTEMPTS - 1) * 200 + 50);
    await expect(t.resources.get(resourceTypes.pods, 'team', 'p')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('names a generated pod by its prefix when refused, as a ReplicaSet records it', async () => {
    const pod = aPod('');
    pod.metadata = { generateName: 'web-', namespace: 'team' };
    const { error } = await timed(t.resources.create<Pod>(resourceTypes.pods, pod));
    expect((error as Error).message).toBe('pods "web-" is forbidden: error looking up service account team/default: serviceaccount "default" not found');
  });

  it('is admitted as soon as the default ServiceAccount is written, without waiting out the pause', async () => {
    let settled = false;
    const creating = t.resources.create<Pod>(resourceTypes.pods, aPod('p', { namespace: 'team' })).finally(() => { settled = true; });
    for (let i = 0; i < 10; i++) await settle();
    expect(settled).toBe(false);
    await t.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'team' } });
    const created = await creating; // the clock never moved
    expect(created.spec.serviceAccountName).toBe('default');
    expect(created.spec.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
  });

  it('a named ServiceAccount is looked up once; a missing namespace is a 404 before any wait', async () => {
    const named = aPod('n', { namespace: 'team' });
    (named.spec as Pod['spec'] & { serviceAccountName?: string }).serviceAccountName = 'robot';
    const { error, ms } = await timed(t.resources.create<Pod>(resourceTypes.pods, named));
    expect((error as Error).message).toBe('pods "n" is forbidden: error looking up service account team/robot: serviceaccount "robot" not found');
    expect(ms).toBe(0);
    const missing = await timed(t.resources.create<Pod>(resourceTypes.pods, aPod('m', { namespace: 'nowhere' })));
    expect(missing.error).toBeInstanceOf(NotFoundError);
    expect((missing.error as Error).message).toBe('namespaces "nowhere" not found');
    expect(missing.ms).toBe(0);
  });
});
