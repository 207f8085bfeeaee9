// NetworkPolicies in each node's desired state (its policies part, decision 057), published by the
// real DesiredPublisher over the store: only the nodes with selected pods get a policy, cut to their
// pods; a new peer pod, a label change and a namespace's labels republish the nodes whose part
// changes, without reading their pods again; a deleted policy is gone.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { desiredRecorder } from '../support/desired-recorder.js';
import { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { aPod, openTestResources, type TestResources } from '../support/test-resources.js';

const withIP = (pod: Pod, ip: string): Pod => ({ ...pod, metadata: { ...pod.metadata, annotations: { 'skiff.dev/pod-ip': ip } } });

describe('NetworkPolicies in the desired state', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('goes to the nodes of the selected pods, and follows pods, labels and namespaces', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const { channel } = recorder;
    for (const node of ['n1', 'n2']) await t.resources.create(resourceTypes.nodes, aNode(node));
    await t.resources.create(resourceTypes.pods, withIP(aPod('web', { nodeName: 'n1', labels: { app: 'web' } }), '10.42.1.2'));
    await t.resources.create(resourceTypes.pods, withIP(aPod('client', { nodeName: 'n2', labels: { app: 'client' } }), '10.42.2.2'));
    await t.resources.create(resourceTypes.networkpolicies, {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-in', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'allowed' } } }, { namespaceSelector: { matchLabels: { team: 'ops' } } }] }] },
    });
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: t.resources, channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    const latest = (node: string) => recorder.view(node);
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 300 && !done(); i++) {
        await publisher!.idle();
        await new Promise((r) => setImmediate(r));
      }
      expect(done()).toBe(true);
    };
    await until(() => Boolean(latest('n1')?.networkPolicies?.length) && latest('n2') !== undefined);
    expect(latest('n1')!.networkPolicies).toEqual([{ namespace: 'default', name: 'web-in', pods: [{ ip: '10.42.1.2' }], ingress: [{ peers: { pods: [], blocks: [] } }] }]);
    expect(latest('n2')!.networkPolicies).toBeUndefined(); // nothing of n2 is selected

    // the client gets the label: a peer now
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'client', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'client', role: 'allowed' } } }));
    await until(() => latest('n1')!.networkPolicies![0]!.ingress![0]!.peers!.pods.length === 1);
    expect(latest('n1')!.networkPolicies![0]!.ingress![0]!.peers!.pods).toEqual([{ ip: '10.42.2.2' }]);

    // a namespace labelled team=ops: its pods are peers
    await t.resources.create(resourceTypes.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops', labels: { team: 'ops' } } });
    await t.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'ops' } }); // what the ServiceAccount controller would create
    await t.resources.create(resourceTypes.pods, withIP(aPod('monitor', { namespace: 'ops', nodeName: 'n2' }), '10.42.2.3'));
    await until(() => latest('n1')!.networkPolicies![0]!.ingress![0]!.peers!.pods.length === 2);

    await t.resources.delete(resourceTypes.networkpolicies, 'default', 'web-in');
    await until(() => latest('n1')!.networkPolicies === undefined);
  });

  it('tells agents the pod network (--cluster-cidr) in every desired state', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const { channel, published } = recorder;
    await t.resources.create(resourceTypes.nodes, aNode('n1'));
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: t.resources, channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }), clusterCidr: '172.20.0.0/16',
    });
    await publisher.start();
    for (let i = 0; i < 300 && published.length === 0; i++) {
      await publisher.idle();
      await new Promise((r) => setImmediate(r));
    }
    expect(published.at(-1)?.clusterCidr).toBe('172.20.0.0/16');
  });

  it('reconciles, on a pod change, only the nodes whose compiled policies change (and the pod\'s own)', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const { channel, published } = recorder;
    for (const node of ['n1', 'n2', 'n3']) await t.resources.create(resourceTypes.nodes, aNode(node));
    await t.resources.create(resourceTypes.pods, withIP(aPod('web', { nodeName: 'n1', labels: { app: 'web' } }), '10.42.1.2'));
    await t.resources.create(resourceTypes.pods, withIP(aPod('other', { nodeName: 'n3', labels: { app: 'other' } }), '10.42.3.2'));
    await t.resources.create(resourceTypes.networkpolicies, {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-in', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] },
    });
    // which nodes' desired states are read (the publisher lists a node's pods to publish it)
    const reconciled: string[] = [];
    const list = t.resources.list.bind(t.resources);
    t.resources.list = ((type, options) => {
      const node = /^spec\.nodeName=(.+)$/.exec(options?.fieldSelector ?? '')?.[1];
      if (node) reconciled.push(node);
      return list(type, options);
    }) as typeof t.resources.list;
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: t.resources, channel, registry, images: new ImageResolver({ registry, resources: t.resources, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    const settle = async () => {
      for (let i = 0; i < 20; i++) {
        await publisher!.idle();
        await new Promise((r) => setImmediate(r));
      }
    };
    await settle();
    expect(recorder.view('n1')?.networkPolicies?.[0]?.pods).toEqual([{ ip: '10.42.1.2' }]);

    // a pod no policy selects or names changes on n3: n3 alone
    reconciled.length = 0;
    await t.resources.mutate<Pod>(resourceTypes.pods, 'default', 'other', (p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'other', v: '2' } } }));
    await settle();
    expect([...new Set(reconciled)].sort()).toEqual(['n3']);

    // a client pod on n2 is a peer of web-in: n2's pods (its pod) and n1's policies part, not n3;
    // n1's pods are not read again (its policies travel on their own)
    reconciled.length = 0;
    const parts = recorder.parts.length;
    await t.resources.create(resourceTypes.pods, withIP(aPod('client', { nodeName: 'n2', labels: { app: 'client' } }), '10.42.2.2'));
    await settle();
    expect([...new Set(reconciled)].sort()).toEqual(['n2']);
    expect(recorder.parts.slice(parts).map((p) => (p.part === 'policies' ? `policies/${p.node}` : p.part))).toEqual(['policies/n1']);
    expect(recorder.view('n1')!.networkPolicies![0]!.ingress![0]!.peers!.pods).toEqual([{ ip: '10.42.2.2' }]);

    // the policy deleted: n1 only carried it, and gets an empty part; no node's pods are read
    reconciled.length = 0;
    const pods = published.length;
    await t.resources.delete(resourceTypes.networkpolicies, 'default', 'web-in');
    await settle();
    expect(reconciled).toEqual([]);
    expect(published.length).toBe(pods);
    expect(recorder.lastPart('policies', 'n1')!.networkPolicies).toEqual([]);
    expect(recorder.view('n1')!.networkPolicies).toBeUndefined();
  });
});
