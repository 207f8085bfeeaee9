// What a node gets of the cluster's Ingresses (decision 075): nothing unless its Node says it
// serves Ingress; skiff's Ingresses (not another class's) when it does; and the certificate and key
// of the `kubernetes.io/tls` Secrets those Ingresses name only when it serves a TLS port: never an
// Opaque Secret named in spec.tls, never a Secret another class's Ingress names, never other keys.
import pino from 'pino';
import * as v from 'valibot';
import { afterEach, describe, expect, it } from 'vitest';
import { INGRESS_PORTS_ANNOTATION } from '../../../api/ingress/ingress-ports.js';
import { desiredStateMessage, type DesiredStateMessage } from '../../../api/mqtt/messages.js';
import type { Node } from '../../../api/types/node.js';
import { DesiredPublisher } from '../../../control-plane/nodes/desired-publisher.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { ImageResolver } from '../../../control-plane/registry/image-resolver.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { aNode } from '../../support/builders.js';
import { desiredRecorder } from '../support/desired-recorder.js';
import { openTestResources, type TestResources } from '../support/test-resources.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, type: string, data: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type, data: Object.fromEntries(Object.entries(data).map(([k, val]) => [k, b64(val)])) });
const ingress = (name: string, secretName: string, cls?: string) => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: {
    ...(cls ? { ingressClassName: cls } : {}),
    tls: [{ hosts: [`${name}.test`], secretName }],
    rules: [{ host: `${name}.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
  },
});
const serving = (name: string, ports: { http?: number; https?: number } | undefined): Node => {
  const node = aNode(name);
  return ports ? { ...node, metadata: { ...node.metadata, annotations: { [INGRESS_PORTS_ANNOTATION]: JSON.stringify(ports) } } } : node;
};

describe('Ingresses in a node\'s desired state', () => {
  let t: TestResources | undefined;
  let publisher: DesiredPublisher | undefined;
  afterEach(async () => {
    publisher?.stop();
    await t?.close();
  });

  it('sends skiff\'s Ingresses only to nodes that serve Ingress, and TLS keys only to those with a TLS port', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const r = t.resources;
    await r.create(resourceTypes.ingressclasses, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'skiff', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'skiff.dev/ingress' } });
    await r.create(resourceTypes.ingressclasses, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } });
    await r.create(resourceTypes.secrets, secret('site-tls', 'kubernetes.io/tls', { 'tls.crt': 'CERT-1', 'tls.key': 'KEY-1', extra: 'not for nodes' }));
    await r.create(resourceTypes.secrets, secret('db-password', 'Opaque', { 'tls.crt': 'x', 'tls.key': 'hunter2' }));
    await r.create(resourceTypes.secrets, secret('nginx-tls', 'kubernetes.io/tls', { 'tls.crt': 'CERT-N', 'tls.key': 'KEY-N' }));
    await r.create(resourceTypes.ingresses, ingress('site', 'site-tls'));
    await r.create(resourceTypes.ingresses, ingress('sneaky', 'db-password'));
    await r.create(resourceTypes.ingresses, ingress('other', 'nginx-tls', 'nginx'));
    await r.create(resourceTypes.nodes, serving('plain', undefined));
    await r.create(resourceTypes.nodes, serving('http-only', { http: 8080 }));
    await r.create(resourceTypes.nodes, serving('tls', { http: 8080, https: 8443 }));
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: r, channel: recorder.channel, registry, images: new ImageResolver({ registry, resources: r, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }), ingressKeysToNodes: true,
    });
    await publisher.start();
    const last = async (node: string, done: (m: DesiredStateMessage | undefined) => boolean = (m) => m !== undefined) => {
      for (let i = 0; i < 200; i++) {
        await publisher!.idle();
        const m = recorder.published.filter((p) => p.node === node).at(-1);
        if (done(m)) return m!;
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error(`no matching desired state for ${node}`);
    };

    expect((await last('plain')).ingress).toBeUndefined();
    const http = (await last('http-only')).ingress!;
    expect(http.ingresses.map((i) => i.name)).toEqual(['site', 'sneaky']); // not the nginx class's
    expect(http.certificates).toBeUndefined();
    const tls = await last('tls');
    expect(tls.ingress!.certificates).toEqual([{ namespace: 'default', name: 'site-tls', cert: 'CERT-1', key: 'KEY-1' }]);
    expect(JSON.stringify(recorder.published)).not.toMatch(/hunter2|KEY-N|not for nodes/);
    expect(v.safeParse(desiredStateMessage, tls).success).toBe(true);

    // a renewed certificate reaches the TLS node
    await r.mutate(resourceTypes.secrets, 'default', 'site-tls', (s) => ({ ...s, data: { 'tls.crt': b64('CERT-2'), 'tls.key': b64('KEY-2') } }));
    expect((await last('tls', (m) => m?.ingress?.certificates?.[0]?.cert === 'CERT-2')).ingress!.certificates![0]!.key).toBe('KEY-2');
    // a node that stops serving Ingress gets neither Ingresses nor keys any more
    await r.mutate<Node>(resourceTypes.nodes, undefined, 'tls', (n) => ({ ...n, metadata: { ...n.metadata, annotations: {} } }));
    expect((await last('tls', (m) => m?.ingress === undefined)).ingress).toBeUndefined();
  });

  it('sends no TLS keys at all unless the operator allowed them: a node claims its own ports', async () => {
    t = await openTestResources();
    const recorder = desiredRecorder();
    const r = t.resources;
    await r.create(resourceTypes.ingressclasses, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'skiff', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'skiff.dev/ingress' } });
    await r.create(resourceTypes.secrets, secret('site-tls', 'kubernetes.io/tls', { 'tls.crt': 'CERT-1', 'tls.key': 'KEY-1' }));
    await r.create(resourceTypes.ingresses, ingress('site', 'site-tls'));
    await r.create(resourceTypes.nodes, serving('tls', { http: 8080, https: 8443 }));
    const registry = new ComponentRegistry(t.store, '/nonexistent');
    publisher = new DesiredPublisher({
      resources: r, channel: recorder.channel, registry, images: new ImageResolver({ registry, resources: r, registryUrl: 'https://cp' }),
      cpEpoch: 'e', clock: t.clock, logger: pino({ level: 'silent' }),
    });
    await publisher.start();
    let m: DesiredStateMessage | undefined;
    for (let i = 0; i < 200 && !m; i++) {
      await publisher.idle();
      m = recorder.published.filter((p) => p.node === 'tls').at(-1);
      if (!m) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(m!.ingress!.ingresses.map((i) => i.name)).toEqual(['site']);
    expect(m!.ingress!.certificates).toBeUndefined();
    expect(JSON.stringify(recorder.published)).not.toMatch(/KEY-1|CERT-1/);
  });
});
