// The pull-through cache against Debian's docker-registry (the CNCF distribution registry) on
// loopback: anonymous TLS, htpasswd basic auth, token auth with a token server; pull policies,
// credentials per pod, digest verification, artifact layouts. `skiff push` publishes the artifacts.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pushToOciRegistry } from '../../../cli/oci-push.js';
import { ComponentRegistry } from '../../../control-plane/registry/component-registry.js';
import { DistributionClient } from '../../../control-plane/registry/oci/distribution-client.js';
import { OciPuller, type PullRequest } from '../../../control-plane/registry/oci/oci-puller.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../../control-plane/registry/oci/wasm-artifact.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';
import type { Store } from '../../../control-plane/store/store.js';
import { startOciRegistry, type OciRegistry } from '../../support/oci-registry.js';
import { startTokenServer, type TokenServer } from '../../support/registry-token-server.js';
import { hasTool } from '../../support/tools.js';
import { FakeClock } from '../../support/fake-clock.js';
import { customSection } from '../../support/wasm-padding.js';

const HELLO = 'wasm-examples/hello/hello.wasm';
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hasRegistry = hasTool('registry', 'OCI registry suite') && hasTool('htpasswd', 'OCI registry suite (htpasswd)');

describe.skipIf(!hasRegistry)('pulling Wasm components from OCI registries', () => {
  let dir: string;
  let store: Store;
  let blobs: ComponentRegistry;
  const pullers: OciPuller[] = [];
  const newPuller = (caCerts: string[]) => {
    const puller = new OciPuller({
      store, blobs, transport: { caCerts }, credentialKey: Buffer.alloc(32, 7), clock: new FakeClock(), logger: pino({ level: 'silent' }),
    });
    pullers.push(puller);
    return puller;
  };
  const pull = async (puller: OciPuller, request: PullRequest) => {
    const result = await puller.resolve(request);
    await puller.idle();
    return result;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-oci-'));
    store = await openSqliteStore({ path: ':memory:', compactIntervalMs: 0 });
    blobs = new ComponentRegistry(store, join(dir, 'blobs'));
  });
  afterEach(async () => {
    await Promise.all(pullers.splice(0).map((p) => p.close()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('an anonymous registry over TLS', () => {
    let registry: OciRegistry;
    beforeAll(async () => { registry = await startOciRegistry(); });
    afterAll(async () => { await registry?.stop(); });

    it('publishes with skiff push and pulls the layer by digest into the blob store', async () => {
      const bytes = await readFile(HELLO);
      const pushed = await pushToOciRegistry(HELLO, `${registry.host}/demo/hello:v1`, { caCerts: [registry.caCert] });
      expect(pushed.layerDigest).toBe(sha256(bytes));
      const result = await pull(newPuller([registry.caCert]), { image: `${registry.host}/demo/hello:v1`, policy: 'IfNotPresent', credentials: [] });
      expect(result).toEqual({ ok: true, digest: sha256(bytes), size: bytes.length, manifestDigest: pushed.digest });
      expect(sha256((await blobs.readBlob(sha256(bytes)))!)).toBe(sha256(bytes));
      // pinned by the manifest's digest too
      const pinned = await pull(newPuller([registry.caCert]), { image: `${registry.host}/demo/hello@${pushed.digest}`, policy: 'IfNotPresent', credentials: [] });
      expect(pinned).toMatchObject({ ok: true, digest: sha256(bytes) });
    });

    it('streams a layer to readers while it arrives, and stores it once', async () => {
      const big = Buffer.concat([await readFile(HELLO), customSection(3 << 20)]);
      await writeFile(join(dir, 'big.wasm'), big);
      await pushToOciRegistry(join(dir, 'big.wasm'), `${registry.host}/demo/big:v1`, { caCerts: [registry.caCert] });
      const puller = newPuller([registry.caCert]);
      const result = await puller.resolve({ image: `${registry.host}/demo/big:v1`, policy: 'Always', credentials: [] });
      expect(result.ok).toBe(true);
      const readers = [puller.openBlob(sha256(big))!, puller.openBlob(sha256(big))!];
      const read = await Promise.all(readers.map(async (r) => Buffer.concat(await r.toArray() as Buffer[])));
      expect(read.map(sha256)).toEqual([sha256(big), sha256(big)]);
      await puller.idle();
      expect((await readdir(join(dir, 'blobs'))).filter((f) => f.includes('pulling'))).toEqual([]);
      expect(await blobs.hasBlob(sha256(big))).toBe(true);
    });

    it('honours imagePullPolicy: IfNotPresent from the cache, Always from the registry, Never only what is there', async () => {
      const image = `${registry.host}/demo/policy:v1`;
      const puller = newPuller([registry.caCert]);
      expect(await pull(puller, { image, policy: 'Never', credentials: [] })).toMatchObject({ ok: false, reason: 'ErrImageNeverPull' });
      await pushToOciRegistry(HELLO, image, { caCerts: [registry.caCert] });
      expect((await pull(puller, { image, policy: 'IfNotPresent', credentials: [] })).ok).toBe(true);
      await registry.pause();
      try {
        expect((await pull(puller, { image, policy: 'IfNotPresent', credentials: [] })).ok).toBe(true);
        expect((await pull(puller, { image, policy: 'Never', credentials: [] })).ok).toBe(true);
        const always = await pull(puller, { image, policy: 'Always', credentials: [] });
        expect(always).toMatchObject({ ok: false, reason: 'ErrImagePull', retryable: true });
      } finally {
        await registry.resume();
      }
    });

    it('follows an image index to its wasm platform and refuses what is not a component artifact', async () => {
      const client = new DistributionClient(registry.host, { transport: { caCerts: [registry.caCert] } });
      const tarLayer = await client.pushBlob('demo/multi', Buffer.from('not a wasm layer'));
      const config = await client.pushBlob('demo/multi', Buffer.from('{}'));
      const containerManifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: tarLayer, size: 16 }],
      }));
      const containerDigest = await client.putManifest('demo/multi', 'linux', containerManifest, OCI_MANIFEST);
      const pushed = await pushToOciRegistry(HELLO, `${registry.host}/demo/multi:wasm`, { caCerts: [registry.caCert] });
      const manifest = await client.getManifest('demo/multi', pushed.digest, [OCI_MANIFEST]);
      const index = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: containerDigest, size: containerManifest.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: OCI_MANIFEST, digest: pushed.digest, size: manifest.bytes.length, platform: { os: 'wasip2', architecture: 'wasm' } },
        ],
      }));
      await client.putManifest('demo/multi', 'v1', index, OCI_INDEX);
      const puller = newPuller([registry.caCert]);
      expect(await pull(puller, { image: `${registry.host}/demo/multi:v1`, policy: 'Always', credentials: [] })).toMatchObject({ ok: true, digest: pushed.layerDigest });

      const container = await pull(puller, { image: `${registry.host}/demo/multi:linux`, policy: 'Always', credentials: [] });
      expect(container).toMatchObject({ ok: false, reason: 'ErrImagePull', retryable: false });
      expect(!container.ok && container.message).toMatch(/no Wasm layer .*not container images/);
      expect(await pull(puller, { image: `${registry.host}/demo/absent:v1`, policy: 'Always', credentials: [] }))
        .toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/MANIFEST_UNKNOWN|NAME_UNKNOWN/) });
      expect(await pull(puller, { image: `${registry.host}/Bad Name:v1`, policy: 'Always', credentials: [] })).toMatchObject({ ok: false, reason: 'InvalidImageName' });
    });

    it('refuses a layer whose bytes do not match its digest', async () => {
      const pushed = await pushToOciRegistry(HELLO, `${registry.host}/demo/corrupt:v1`, { caCerts: [registry.caCert] });
      const hex = pushed.layerDigest.slice('sha256:'.length);
      await writeFile(join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), Buffer.alloc(pushed.size, 1));
      const puller = newPuller([registry.caCert]);
      expect((await pull(puller, { image: `${registry.host}/demo/corrupt:v1`, policy: 'Always', credentials: [] })).ok).toBe(true);
      expect(puller.failure(pushed.layerDigest)).toMatch(/digest mismatch/);
      expect(await blobs.hasBlob(pushed.layerDigest)).toBe(false);
      expect((await readdir(join(dir, 'blobs'))).filter((f) => f.includes('pulling'))).toEqual([]);
    });

    it('refuses a registry whose certificate it does not trust', async () => {
      const untrusted = await pull(newPuller([]), { image: `${registry.host}/demo/hello:v1`, policy: 'Always', credentials: [] });
      expect(untrusted).toMatchObject({ ok: false, retryable: true });
      expect(!untrusted.ok && untrusted.message).toMatch(/certificate/);
    });
  });

  describe('a registry with htpasswd basic auth', () => {
    let registry: OciRegistry;
    beforeAll(async () => { registry = await startOciRegistry({ kind: 'htpasswd', users: { alice: 'wonderland' } }); });
    afterAll(async () => { await registry?.stop(); });

    it('pulls with the pod\'s credentials only, and lets no other credentials use what they pulled', async () => {
      const image = `${registry.host}/private/hello:v1`;
      await expect(pushToOciRegistry(HELLO, image, { caCerts: [registry.caCert] })).rejects.toThrow(/unauthorized/);
      await pushToOciRegistry(HELLO, image, { caCerts: [registry.caCert], credentials: { username: 'alice', password: 'wonderland' } });
      const puller = newPuller([registry.caCert]);
      expect(await pull(puller, { image, policy: 'IfNotPresent', credentials: [] })).toMatchObject({ ok: false, reason: 'ErrImagePull', message: expect.stringMatching(/unauthorized.*imagePullSecret/) });
      expect(await pull(puller, { image, policy: 'IfNotPresent', credentials: [{ username: 'alice', password: 'nope' }] }))
        .toMatchObject({ ok: false, message: expect.stringMatching(/credentials were refused/) });
      const alice = { username: 'alice', password: 'wonderland' };
      expect((await pull(puller, { image, policy: 'IfNotPresent', credentials: [{ username: 'bob', password: 'x' }, alice] })).ok).toBe(true);
      // cached now, but only for credentials shown to work: anonymous and wrong ones must ask the registry (and fail)
      expect(await pull(puller, { image, policy: 'Never', credentials: [] })).toMatchObject({ ok: false, reason: 'ErrImageNeverPull' });
      expect((await pull(puller, { image, policy: 'IfNotPresent', credentials: [{ username: 'alice', password: 'nope' }] })).ok).toBe(false);
      expect((await pull(puller, { image, policy: 'Never', credentials: [alice] })).ok).toBe(true);
    });
  });

  describe('a registry with token auth', () => {
    let registry: OciRegistry;
    let tokens: TokenServer;
    let tokenDir: string;
    beforeAll(async () => {
      tokenDir = await mkdtemp(join(tmpdir(), 'skiff-token-'));
      tokens = await startTokenServer(tokenDir, { users: { ci: 'push-secret', pod: 'pull-secret' }, grants: { 'ci/team/app': ['pull', 'push'], 'pod/team/app': ['pull'], '*/public/app': ['pull'], 'ci/public/app': ['pull', 'push'] } });
      // one CA for both (two throwaway CAs of one name would confuse the TLS stack)
      registry = await startOciRegistry({ kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle }, tokenDir);
    });
    afterAll(async () => {
      await registry?.stop();
      await tokens?.stop();
      await rm(tokenDir, { recursive: true, force: true });
    });

    it('asks the token server for a scoped token with the credentials, and pulls anonymously where allowed', async () => {
      const ci = { username: 'ci', password: 'push-secret' };
      const cas = [registry.caCert];
      await pushToOciRegistry(HELLO, `${registry.host}/team/app:v1`, { caCerts: cas, credentials: ci });
      await pushToOciRegistry(HELLO, `${registry.host}/public/app:v1`, { caCerts: cas, credentials: ci });
      // the registry's challenge names the actions in no fixed order (push,pull or pull,push)
      const asked = (user: string, repository: string, actions: string[]) => tokens.requests.some((r) => {
        const [type, name, granted = ''] = r.scope.split(':');
        return r.user === user && type === 'repository' && name === repository && actions.every((a) => granted.split(',').includes(a));
      });
      expect(asked('ci', 'team/app', ['pull', 'push'])).toBe(true);
      const puller = newPuller(cas);
      expect(await pull(puller, { image: `${registry.host}/team/app:v1`, policy: 'Always', credentials: [] })).toMatchObject({ ok: false, message: expect.stringMatching(/unauthorized/) });
      expect((await pull(puller, { image: `${registry.host}/team/app:v1`, policy: 'Always', credentials: [{ username: 'pod', password: 'pull-secret' }] })).ok).toBe(true);
      expect(asked('pod', 'team/app', ['pull'])).toBe(true);
      expect(asked('pod', 'team/app', ['push'])).toBe(false);
      expect((await pull(puller, { image: `${registry.host}/public/app:v1`, policy: 'Always', credentials: [] })).ok).toBe(true);
      expect(await pull(puller, { image: `${registry.host}/team/app:v1`, policy: 'Always', credentials: [{ username: 'pod', password: 'wrong' }] }))
        .toMatchObject({ ok: false, message: expect.stringMatching(/refused/) });
    });
  });
});
