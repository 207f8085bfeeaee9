// OCI images end to end: a component published with `skiff push` to Debian's docker-registry
// (htpasswd auth, TLS) runs as a pod whose image names it, pulled through the control plane with
// the pod's imagePullSecret, the ServiceAccount's, or not at all; progress shows in events.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../api/types/node.js';
import type { Pod } from '../../api/types/pod.js';
import { pushToOciRegistry } from '../../cli/oci-push.js';
import { customSection } from '../support/wasm-padding.js';
import { startOciRegistry, type OciRegistry } from '../support/oci-registry.js';
import { hasTool } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const PODS = '/api/v1/namespaces/default/pods';
const EVENTS = '/api/v1/namespaces/default/events';
const byName = (name: string) => `${PODS}?fieldSelector=metadata.name%3D${name}`;
const credentials = { username: 'deployer', password: 's3cret-pass' };
const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

function pod(name: string, image: string, extra: Record<string, unknown> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, env: [{ name: 'WHO', value: 'oci' }] }], ...extra },
  };
}

describe.skipIf(!hasTool('registry', 'OCI pull e2e') || !hasTool('htpasswd', 'OCI pull e2e'))('pods whose image names an OCI registry', () => {
  let registry: OciRegistry;
  let cluster: Cluster;
  let dir: string;
  let helloDigest: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-oci-e2e-'));
    registry = await startOciRegistry({ kind: 'htpasswd', users: { [credentials.username]: credentials.password } });
    cluster = await startCluster({ agents: 1, registries: { caCerts: [registry.caCert] } });
    const pushed = await pushToOciRegistry('wasm-examples/hello/hello.wasm', `${registry.host}/apps/hello:v1`, { caCerts: [registry.caCert], credentials });
    helloDigest = pushed.layerDigest;
    const dockerconfig = JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') } } });
    const secret = {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerconfig).toString('base64') },
    };
    expect((await cluster.client.request('POST', '/api/v1/namespaces/default/secrets', secret)).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a component pulled with the pod\'s imagePullSecret, and says so in events', async () => {
    const image = `${registry.host}/apps/hello:v1`;
    expect((await cluster.client.request('POST', PODS, pod('from-oci', image, { imagePullSecrets: [{ name: 'regcred' }] }))).status).toBe(201);
    const done = await waitFor<Pod>(cluster.client, byName('from-oci'), (e) => terminal(e.object), 60_000);
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.containerStatuses?.[0]).toMatchObject({ image, imageID: helloDigest });
    const logs = await cluster.client.request<string>('GET', `${PODS}/from-oci/log`);
    expect(logs.text).toContain('oci');
    const pulled = await waitFor<Event>(cluster.client, EVENTS, (e) => e.object.involvedObject.name === 'from-oci' && e.object.reason === 'Pulled');
    expect(pulled.message).toContain(`Successfully pulled image "${image}"`);
  });

  it('fails with ErrImagePull and the registry\'s reason without credentials, then runs once the ServiceAccount has them', async () => {
    const image = `${registry.host}/apps/hello:v1`;
    expect((await cluster.client.request('POST', PODS, pod('no-creds', image, { imagePullPolicy: 'Always' }))).status).toBe(201);
    const waiting = await waitFor<Pod>(cluster.client, byName('no-creds'), (e) =>
      ['ErrImagePull', 'ImagePullBackOff'].includes(e.object.status?.containerStatuses?.[0]?.state.waiting?.reason ?? ''), 60_000);
    expect(waiting.status?.containerStatuses?.[0]?.state.waiting?.message ?? '').toMatch(/unauthorized/);
    const failed = await waitFor<Event>(cluster.client, EVENTS, (e) => e.object.involvedObject.name === 'no-creds' && e.object.reason === 'Failed');
    expect(failed.message).toMatch(/Failed to pull image .*unauthorized/);
    // the kubelet's way too: the namespace's default ServiceAccount lends its imagePullSecrets
    const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, imagePullSecrets: [{ name: 'regcred' }] };
    const saved = await cluster.client.request('PUT', '/api/v1/namespaces/default/serviceaccounts/default', account);
    expect(saved.status === 404 ? (await cluster.client.request('POST', '/api/v1/namespaces/default/serviceaccounts', account)).status : saved.status).toBeLessThan(300);
    const done = await waitFor<Pod>(cluster.client, byName('no-creds'), (e) => terminal(e.object), 60_000);
    expect(done.status?.phase).toBe('Succeeded');
    await cluster.client.request('PATCH', '/api/v1/namespaces/default/serviceaccounts/default', { imagePullSecrets: null }, { 'content-type': 'application/merge-patch+json' });
  }, 90_000);

  it('says ErrImageNeverPull for an image the cluster never pulled and imagePullPolicy Never', async () => {
    const never = pod('never', `${registry.host}/apps/never:v1`, { imagePullSecrets: [{ name: 'regcred' }] });
    never.spec.containers[0]!.imagePullPolicy = 'Never';
    expect((await cluster.client.request('POST', PODS, never)).status).toBe(201);
    const waiting = await waitFor<Pod>(cluster.client, byName('never'), (e) => e.object.status?.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImageNeverPull', 60_000);
    expect(waiting.status?.containerStatuses?.[0]?.state.waiting?.message).toContain('is not present with pull policy of Never');
  });

  it('shows the progress of a large component\'s pull in events', async () => {
    const big = Buffer.concat([await readFile('wasm-examples/hello/hello.wasm'), customSection(6 << 20)]);
    await writeFile(join(dir, 'big.wasm'), big);
    const image = `${registry.host}/apps/big:v1`;
    await pushToOciRegistry(join(dir, 'big.wasm'), image, { caCerts: [registry.caCert], credentials });
    expect((await cluster.client.request('POST', PODS, pod('big', image, { imagePullSecrets: [{ name: 'regcred' }] }))).status).toBe(201);
    await waitFor<Pod>(cluster.client, byName('big'), (e) => e.object.status?.phase === 'Succeeded', 60_000);
    const events = (await cluster.client.request<{ items: Event[] }>('GET', EVENTS)).body.items.filter((e) => e.involvedObject.name === 'big');
    const progress = events.filter((e) => e.reason === 'Pulling' && /\d+% \(/.test(e.message ?? '')).map((e) => e.message);
    const total = `${(big.length / 2 ** 20).toFixed(1)} MiB`;
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const message of progress) expect(message).toMatch(new RegExp(`^Pulling image "${image}": (25|50|75)% \\(\\d+\\.\\d MiB of ${total.replace('.', '\\.')}\\)$`));
  }, 90_000);
});
