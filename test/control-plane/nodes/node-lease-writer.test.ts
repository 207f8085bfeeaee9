import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { microTime } from '../../../api/clock.js';
import type { Lease, Node } from '../../../api/types/node.js';
import { LEASE_NAMESPACE, NodeLeaseWriter } from '../../../control-plane/nodes/node-lease-writer.js';
import { ResourceStore } from '../../../control-plane/resources/resource-store.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { FakeClock } from '../../support/fake-clock.js';
import { seededRandom } from '../../support/seeded-random.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 0, 1);
const at = (s: number) => microTime(T0 + s * 1000);
const aNode = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} });

async function storedLease(t: TestResources, node: string): Promise<Lease | undefined> {
  return t.resources.get<Lease>(resourceTypes.leases, LEASE_NAMESPACE, node).catch(() => undefined);
}

describe('node leases written in batches (decision 058)', () => {
  let t: TestResources;
  let writer: NodeLeaseWriter;
  beforeEach(async () => {
    t = await openTestResources();
    await t.resources.create(resourceTypes.nodes, aNode('a'));
    writer = new NodeLeaseWriter({ resources: t.resources, clock: t.clock, logger, flushIntervalMs: 20_000 });
    writer.start();
  });
  afterEach(async () => {
    await writer.stop();
    await t.close();
  });

  it('creates the Lease at once, keeps renewals that move only renewTime in memory, and writes the newest at the flush', async () => {
    writer.renew('a', { renewTime: at(0), leaseDurationSeconds: 40 });
    await vi.waitFor(async () => expect((await storedLease(t, 'a'))?.spec.renewTime).toBe(at(0)), { timeout: 5000 });
    const created = (await storedLease(t, 'a'))!;
    expect(created.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'a', uid: (await t.resources.get<Node>(resourceTypes.nodes, undefined, 'a')).metadata.uid }]);
    for (const s of [10, 20]) {
      t.clock.advance(10_000 - 1); // the flush is due at 20 s
      writer.renew('a', { renewTime: at(s), leaseDurationSeconds: 40 });
    }
    expect((await storedLease(t, 'a'))!.spec.renewTime).toBe(at(0));
    expect([writer.pending, writer.written, writer.coalesced]).toEqual([1, 1, 1]);
    t.clock.advance(2);
    await writer.flush(); // the timer's flush, under way
    expect((await storedLease(t, 'a'))!.spec.renewTime).toBe(at(20));
    expect([writer.pending, writer.written]).toEqual([0, 2]);
  });

  it('writes at once a renewal whose stored Lease would look expired before the next flush, or whose duration changed', async () => {
    writer.renew('a', { renewTime: at(0), leaseDurationSeconds: 15 });
    await vi.waitFor(async () => expect((await storedLease(t, 'a'))?.spec.renewTime).toBe(at(0)), { timeout: 5000 });
    t.clock.advance(4_000);
    // stored 0 s + 15 s <= next flush (20 s) + margin: cannot wait
    writer.renew('a', { renewTime: at(4), leaseDurationSeconds: 15 });
    await vi.waitFor(async () => expect((await storedLease(t, 'a'))?.spec.renewTime).toBe(at(4)), { timeout: 5000 });
    writer.renew('a', { renewTime: at(5), leaseDurationSeconds: 60 });
    await vi.waitFor(async () => expect((await storedLease(t, 'a'))?.spec.leaseDurationSeconds).toBe(60), { timeout: 5000 });
    // now stored 5 s + 60 s is past the next flush: this one waits
    writer.renew('a', { renewTime: at(6), leaseDurationSeconds: 60 });
    expect(writer.pending).toBe(1);
  });

  it('stores what ResourceStore.update stored for the same renewals (the path it replaces)', async () => {
    const other = await openTestResources();
    try {
      await other.resources.create(resourceTypes.nodes, aNode('a'));
      const renewals = [at(0), at(10), at(20)];
      for (const [i, renewTime] of renewals.entries()) {
        writer.renew('a', { renewTime, leaseDurationSeconds: 40 });
        await writer.flush();
        // what node-registry.ts did before: mutate, or create with the Node as owner
        if (i === 0) {
          const uid = (await other.resources.get<Node>(resourceTypes.nodes, undefined, 'a')).metadata.uid!;
          await other.resources.create<Lease>(resourceTypes.leases, {
            apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
            metadata: { name: 'a', namespace: LEASE_NAMESPACE, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'a', uid }] },
            spec: { holderIdentity: 'a', leaseDurationSeconds: 40, renewTime },
          });
        } else {
          await other.resources.mutate<Lease>(resourceTypes.leases, LEASE_NAMESPACE, 'a', (l) => ({ ...l, spec: { ...l.spec, holderIdentity: 'a', renewTime, leaseDurationSeconds: 40 } }));
        }
        const strip = (l: Lease | undefined) => ({ ...l, metadata: { ...l?.metadata, resourceVersion: undefined } });
        expect(strip(await storedLease(t, 'a'))).toEqual(strip(await storedLease(other, 'a')));
      }
    } finally {
      await other.close();
    }
  });

  it('stop() writes what is pending', async () => {
    writer.renew('a', { renewTime: at(0), leaseDurationSeconds: 40 });
    await writer.flush();
    writer.renew('a', { renewTime: at(10), leaseDurationSeconds: 40 });
    await writer.stop();
    expect((await storedLease(t, 'a'))!.spec.renewTime).toBe(at(10));
  });
});

/** A Store whose updates and creates fail while `failing` says so (a store that is down). */
function flaky(inner: Store, failing: () => boolean): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'update' || prop === 'create') {
        return (...args: unknown[]) => (failing() ? Promise.reject(new Error('store unavailable')) : (value as (...a: unknown[]) => unknown).apply(target, args));
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

describe('node lease writer, seeded fuzz', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: renewals, flushes, user edits, deleted Leases and failing writes: the newest renewal is stored at the end, never an older one after a newer', async (seed) => {
    const next = seededRandom(seed);
    const clock = new FakeClock(T0);
    let failing = false;
    const store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0, clock });
    let uid = 0;
    const resources = new ResourceStore(flaky(store, () => failing && next() < 0.5), { clock, uid: () => `uid-${++uid}` });
    await resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE } });
    const nodes = ['n0', 'n1', 'n2', 'n3'];
    for (const n of nodes) await resources.create(resourceTypes.nodes, aNode(n));
    const writer = new NodeLeaseWriter({ resources, clock, logger, flushIntervalMs: 20_000, writesPerTurn: 2 });
    writer.start();
    // every stored renewTime, per node, in revision order
    const seen = new Map<string, string[]>();
    const watch = store.watch('/registry/coordination.k8s.io/leases/', {}, (e) => {
      if (e.type !== 'put') return;
      const l = JSON.parse(e.kv.value) as Lease;
      seen.set(l.metadata.name!, [...(seen.get(l.metadata.name!) ?? []), l.spec.renewTime!]);
    });
    const newest = new Map<string, string>();
    const deletedSince = new Set<string>();
    let seconds = 0;
    try {
      for (let step = 0; step < 300; step++) {
        const r = next();
        failing = next() < 0.2;
        if (r < 0.6) {
          const node = nodes[Math.floor(next() * nodes.length)]!;
          seconds += next() * 3;
          const renewTime = at(seconds);
          newest.set(node, renewTime);
          deletedSince.delete(node);
          writer.renew(node, { renewTime, leaseDurationSeconds: next() < 0.1 ? 10 : 40 });
        } else if (r < 0.75) {
          clock.advance(Math.floor(next() * 15_000));
        } else if (r < 0.85) {
          await writer.flush().catch(() => undefined);
        } else if (r < 0.93) {
          // a user's edit between writes: a conflict for a write that read before it
          const node = nodes[Math.floor(next() * nodes.length)]!;
          await resources.mutate<Lease>(resourceTypes.leases, LEASE_NAMESPACE, node, (l) => ({ ...l, metadata: { ...l.metadata, labels: { edited: String(step) } } })).catch(() => undefined);
        } else {
          const node = nodes[Math.floor(next() * nodes.length)]!;
          // deleted after its newest renewal was written: no Lease until the next renewal
          if (await resources.delete(resourceTypes.leases, LEASE_NAMESPACE, node).then(() => true, () => false)) deletedSince.add(node);
        }
        if (next() < 0.5) await new Promise((resolve) => setImmediate(resolve)); // let writes of this turn commit
      }
      failing = false;
      await writer.stop();
      for (const [node, renewTime] of newest) {
        const stored = await resources.get<Lease>(resourceTypes.leases, LEASE_NAMESPACE, node).catch(() => undefined);
        if (stored || !deletedSince.has(node)) expect(stored?.spec, node).toMatchObject({ holderIdentity: node, renewTime });
      }
      for (const [node, times] of seen) {
        // never an older renewal after a newer one (a user's edit rewrites the same renewTime)
        for (let i = 1; i < times.length; i++) expect(times[i]! >= times[i - 1]!, `${node}: ${times[i - 1]} then ${times[i]}`).toBe(true);
      }
    } finally {
      watch.cancel();
      await store.close();
    }
  });
});
