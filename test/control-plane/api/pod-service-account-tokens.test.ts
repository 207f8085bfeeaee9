// Pods and their ServiceAccount: the admission that adds the kube-api-access volume (as the real
// ServiceAccount plugin), the root CA ConfigMap in every namespace, and a node's TokenRequest, which
// NodeRestriction confines to tokens bound to its own pods, as their ServiceAccount.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/types/pod.js';
import { nodeUser } from '../../../control-plane/api/authorization/node-authorizer.js';
import { DEFAULT_ISSUER, loadSigningKey, serviceAccountTokens, type ServiceAccountTokens } from '../../../control-plane/api/service-account-tokens.js';
import { RootCaPublisher } from '../../../control-plane/controllers/serviceaccount/root-ca-publisher.js';
import { EventRecorder } from '../../../control-plane/events/event-recorder.js';
import type { ConfigMap } from '../../../control-plane/resources/kinds/config.js';
import { resourceTypes } from '../../../control-plane/resources/resource-types.js';
import { SERVICE_ACCOUNT_MOUNT_PATH } from '../../../control-plane/resources/service-account-admission.js';
import { hostileString, seededRandom } from '../../support/seeded-random.js';
import { openRbacApi, type RbacApi } from '../support/rbac-api.js';
import { aPod } from '../support/test-resources.js';

const SA = '/api/v1/namespaces/default/serviceaccounts';
const tokenRequest = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });

describe('pods and ServiceAccount tokens', () => {
  let api: RbacApi;
  let dir: string;
  let tokens: ServiceAccountTokens;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-pod-sa-'));
    const holder: { tokens?: ServiceAccountTokens } = {};
    const lazy: ServiceAccountTokens = {
      issuer: DEFAULT_ISSUER, apiAudiences: [DEFAULT_ISSUER],
      issue: (c) => holder.tokens!.issue(c), authenticate: (t) => holder.tokens!.authenticate(t),
    };
    api = await openRbacApi({ serviceAccountTokens: lazy });
    tokens = holder.tokens = serviceAccountTokens({ keys: await loadSigningKey(dir), resources: api.resources, clock: api.clock });
    // `default` exists from the start (initial namespaces)
    await api.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    await api.resources.create(resourceTypes.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet', namespace: 'default' }, automountServiceAccountToken: false } as never);
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds the kube-api-access volume to every container, unless the pod or its ServiceAccount opts out', async () => {
    const pod = aPod('auto');
    pod.spec.initContainers = [{ name: 'init', image: 'x' }];
    const created = await api.resources.create<Pod>(resourceTypes.pods, pod);
    const spec = created.spec as Pod['spec'] & Record<string, unknown>;
    expect(spec['serviceAccountName']).toBe('default');
    const volume = spec.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
    expect(volume.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(volume['projected']).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    for (const c of [...created.spec.containers, ...created.spec.initContainers!]) {
      expect(c.volumeMounts).toEqual([{ name: volume.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    }
    const optedOut = aPod('no-token');
    (optedOut.spec as Record<string, unknown>)['automountServiceAccountToken'] = false;
    expect((await api.resources.create<Pod>(resourceTypes.pods, optedOut)).spec.volumes ?? []).toEqual([]);
    const quiet = aPod('quiet-sa');
    (quiet.spec as Record<string, unknown>)['serviceAccountName'] = 'quiet';
    expect((await api.resources.create<Pod>(resourceTypes.pods, quiet)).spec.volumes ?? []).toEqual([]);
    const podSays = aPod('pod-says-yes');
    Object.assign(podSays.spec, { serviceAccountName: 'quiet', automountServiceAccountToken: true });
    expect((await api.resources.create<Pod>(resourceTypes.pods, podSays)).spec.volumes).toHaveLength(1);
    const ownMount = aPod('own-mount');
    ownMount.spec.volumes = [{ name: 'mine', emptyDir: {} }];
    ownMount.spec.containers[0]!.volumeMounts = [{ name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    expect((await api.resources.create<Pod>(resourceTypes.pods, ownMount)).spec.volumes!.map((v) => v.name)).toEqual(['mine']);
  });

  it('publishes kube-root-ca.crt in every namespace, and puts it back when deleted or changed', async () => {
    const logger = pino({ level: 'silent' });
    const publisher = new RootCaPublisher({ resources: api.resources, events: new EventRecorder(api.resources, api.clock, logger), clock: api.clock, logger }, 'CA PEM');
    publisher.start();
    try {
      const read = () => api.resources.get<ConfigMap>(resourceTypes.configmaps, 'default', 'kube-root-ca.crt');
      await api.eventually(async () => expect((await read()).data).toEqual({ 'ca.crt': 'CA PEM' }));
      await api.resources.update(resourceTypes.configmaps, { ...(await read()), data: { 'ca.crt': 'forged' } });
      await api.eventually(async () => expect((await read()).data).toEqual({ 'ca.crt': 'CA PEM' }));
      await api.resources.delete(resourceTypes.configmaps, 'default', 'kube-root-ca.crt');
      await api.eventually(async () => expect((await read()).data).toEqual({ 'ca.crt': 'CA PEM' }));
    } finally {
      publisher.stop();
    }
  });

  it('lets a node request tokens only bound to its own pods, as their ServiceAccount', async () => {
    const onNode = aPod('on-n1', { nodeName: 'n1' });
    (onNode.spec as Record<string, unknown>)['serviceAccountName'] = 'robot';
    const pod = await api.resources.create<Pod>(resourceTypes.pods, onNode);
    await api.resources.create(resourceTypes.pods, aPod('on-n2', { nodeName: 'n2' }));
    const n1 = api.as(nodeUser('n1'));
    const bound = (name: string, uid?: string) => tokenRequest({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name, ...(uid ? { uid } : {}) } });
    const ok = await n1('POST', `${SA}/robot/token`, bound('on-n1', pod.metadata.uid));
    expect(ok.status).toBe(201);
    const token = ((await ok.json()) as { status: { token: string } }).status.token;
    expect(await tokens.authenticate(token)).toMatchObject({ name: 'system:serviceaccount:default:robot' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, { pod?: { name: string; uid: string } }>;
    expect(claims['kubernetes.io']!.pod).toEqual({ name: 'on-n1', uid: pod.metadata.uid });
    const refused = async (path: string, body: unknown, words: string) => {
      const res = await n1('POST', path, body);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { message: string }).message).toContain(words);
    };
    await refused(`${SA}/robot/token`, tokenRequest(), 'boundObjectRef to a pod');
    await refused(`${SA}/default/token`, bound('on-n2'), 'scheduled to it');
    await refused(`${SA}/default/token`, bound('on-n1'), 'runs as "robot"');
    await refused(`${SA}/robot/token`, tokenRequest({ boundObjectRef: { kind: 'Secret', name: 'x' } }), 'boundObjectRef to a pod');
    // nothing else about ServiceAccounts is open to nodes
    expect((await n1('GET', `${SA}/robot`)).status).toBe(403);
    expect((await n1('POST', SA, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x' } })).status).toBe(403);
    // the bound token dies with its pod
    await api.resources.delete(resourceTypes.pods, 'default', 'on-n1', { gracePeriodSeconds: 0 });
    expect(await tokens.authenticate(token)).toBeUndefined();
  });

  it('fuzz: a node never gets a token for hostile requests, and never a 5xx', async () => {
    const n1 = api.as(nodeUser('n1'));
    const next = seededRandom(Number(process.env['SKIFF_FUZZ_SEED'] ?? 14_031));
    for (let i = 0; i < 300; i++) {
      const name = next() < 0.5 ? 'robot' : encodeURIComponent(hostileString(next)) || 'x';
      const ref = next() < 0.2 ? undefined : { kind: next() < 0.8 ? 'Pod' : hostileString(next), name: next() < 0.3 ? 'on-n2' : hostileString(next), uid: hostileString(next) };
      const res = await n1('POST', `${SA}/${name}/token`, tokenRequest({ ...(ref ? { boundObjectRef: ref } : {}), expirationSeconds: 3600 }));
      expect(res.status).toBeLessThan(500);
      expect(res.status).not.toBe(201);
    }
  }, 60_000);
});
