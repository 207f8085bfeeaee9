import { describe, expect, it } from 'vitest';
import { pullPolicyOf } from '../../../control-plane/registry/image-resolver.js';
import { parseChallenge } from '../../../control-plane/registry/oci/registry-auth.js';
import { InvalidOciReferenceError, isOciReference, parseOciReference } from '../../../control-plane/registry/oci/oci-reference.js';
import { credentialsFor, InvalidPullSecretError, matchKey } from '../../../control-plane/registry/oci/pull-secrets.js';
import { isAllowedUrl } from '../../../control-plane/registry/oci/registry-http.js';
import { readManifest, UnsupportedArtifactError, wasmArtifact } from '../../../control-plane/registry/oci/wasm-artifact.js';
import { requestLabels } from '../../../control-plane/api/request-observer.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const dockerconfig = (auths: unknown) => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') } });

describe('OCI image references', () => {
  it('tells registry references from the cluster registry\'s names as Docker does', () => {
    for (const ref of ['ghcr.io/org/app:v1', 'localhost/app', 'localhost:5000/app', '127.0.0.1:5000/a/b@' + DIGEST, 'registry.local/hello:1.0', '[::1]:5000/app']) expect(isOciReference(ref), ref).toBe(true);
    for (const ref of ['examples/hello:latest', 'hello', 'library/nginx', 'org/app:v1.2']) expect(isOciReference(ref), ref).toBe(false);
  });

  it('reads host, port, repository, tag and digest', () => {
    expect(parseOciReference('ghcr.io/org/app:v1')).toEqual({ registry: 'ghcr.io', repository: 'org/app', tag: 'v1' });
    expect(parseOciReference('localhost:5000/a/b')).toEqual({ registry: 'localhost:5000', repository: 'a/b', tag: 'latest' });
    expect(parseOciReference(`r.io/app:v2@${DIGEST}`)).toEqual({ registry: 'r.io', repository: 'app', tag: 'v2', digest: DIGEST });
    expect(parseOciReference(`r.io/app@${DIGEST}`)).toEqual({ registry: 'r.io', repository: 'app', digest: DIGEST });
  });

  it('refuses malformed references with a reason', () => {
    for (const bad of ['r.io/App:v1', 'r.io/a//b', 'r.io/app:', 'r.io/app@sha256:abc', 'r.io:99999/app', 'bad host.io/app', `r.io/${'a'.repeat(600)}`, 'r.io/../etc', 'r.io/a:b:c']) {
      expect(() => parseOciReference(bad), bad).toThrow(InvalidOciReferenceError);
    }
  });

  it('never throws anything but InvalidOciReferenceError on hostile input (seeded fuzz)', () => {
    const next = seededRandom(16);
    for (let i = 0; i < 5000; i++) {
      const input = `${next() < 0.5 ? 'r.io/' : ''}${hostileString(next)}`;
      try {
        const ref = parseOciReference(input);
        expect(ref.repository).toMatch(/^[a-z0-9._/-]+$/);
        expect(ref.repository.split('/').every((c) => c !== '..' && c !== '.' && c !== '')).toBe(true);
      } catch (error) {
        expect(error, input).toBeInstanceOf(InvalidOciReferenceError);
      }
    }
  });

  it('defaults imagePullPolicy as Kubernetes does', () => {
    expect(pullPolicyOf({ image: 'r.io/app' })).toBe('Always');
    expect(pullPolicyOf({ image: 'r.io/app:latest' })).toBe('Always');
    expect(pullPolicyOf({ image: 'r.io:5000/app:v1' })).toBe('IfNotPresent');
    expect(pullPolicyOf({ image: `r.io:5000/app@${DIGEST}` })).toBe('IfNotPresent');
    expect(pullPolicyOf({ image: 'r.io:5000/app', imagePullPolicy: 'Never' })).toBe('Never');
  });
});

describe('imagePullSecrets', () => {
  it('matches keys as the kubelet does: exact host, scheme and path, one-label wildcards, Docker Hub\'s names', () => {
    expect(matchKey('r.io:5000', 'r.io:5000')).toBe(2);
    expect(matchKey('https://r.io:5000/v2/', 'r.io:5000')).toBe(2);
    expect(matchKey('r.io', 'r.io:5000')).toBe(-1);
    expect(matchKey('*.example.com', 'a.example.com')).toBe(1);
    expect(matchKey('*.example.com', 'a.b.example.com')).toBe(-1);
    expect(matchKey('*.example.com', 'example.com')).toBe(-1);
    expect(matchKey('https://index.docker.io/v1/', 'docker.io')).toBe(2);
  });

  it('reads username/password, auth and identity tokens, most specific first', () => {
    const secrets = [
      { name: 'wild', secret: dockerconfig({ '*.r.io': { username: 'wild', password: 'w' } }) },
      { name: 'exact', secret: dockerconfig({ 'a.r.io': { auth: Buffer.from('exact:p:with:colons').toString('base64') }, 'b.r.io': { identitytoken: 'tok' } }) },
      { name: 'legacy', secret: { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from(JSON.stringify({ 'a.r.io': { username: 'old', password: 'o' } })).toString('base64') } } },
    ];
    expect(credentialsFor('a.r.io', secrets)).toEqual([{ username: 'exact', password: 'p:with:colons' }, { username: 'old', password: 'o' }, { username: 'wild', password: 'w' }]);
    expect(credentialsFor('b.r.io', secrets)).toEqual([{ identityToken: 'tok' }, { username: 'wild', password: 'w' }]);
    expect(credentialsFor('other.io', secrets)).toEqual([]);
  });

  it('says which secret is malformed, and survives hostile ones (seeded fuzz)', () => {
    expect(() => credentialsFor('r.io', [{ name: 'broken', secret: { data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') } } }])).toThrow(/broken/);
    const next = seededRandom(61);
    for (let i = 0; i < 3000; i++) {
      const value = next() < 0.8 ? { auths: hostileJson(next) } : hostileJson(next);
      const secret = { data: { '.dockerconfigjson': Buffer.from(JSON.stringify(value) ?? 'null').toString('base64') } };
      try {
        for (const c of credentialsFor(hostileString(next, 3) || 'r.io', [{ name: 's', secret }])) expect(typeof c).toBe('object');
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidPullSecretError);
      }
    }
  });
});

describe('registry authentication challenges', () => {
  it('reads Bearer and Basic challenges with quoted and escaped values', () => {
    expect(parseChallenge('Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a/b:pull"'))
      .toEqual({ scheme: 'bearer', params: { realm: 'https://auth.io/token', service: 'registry.io', scope: 'repository:a/b:pull' } });
    expect(parseChallenge('Basic realm="x \\"y\\""')).toEqual({ scheme: 'basic', params: { realm: 'x "y"' } });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge(`Bearer ${'a'.repeat(10_000)}`)).toBeUndefined();
  });

  it('never throws on hostile headers (seeded fuzz)', () => {
    const next = seededRandom(7);
    for (let i = 0; i < 5000; i++) {
      const header = `${next() < 0.5 ? 'Bearer ' : ''}${hostileString(next, 20)}`;
      expect(() => parseChallenge(header), header).not.toThrow();
    }
  });

  it('reaches registries over https, and plain http only when listed as insecure', () => {
    expect(isAllowedUrl(new URL('https://r.io/v2/'), {})).toBe(true);
    expect(isAllowedUrl(new URL('http://r.io/v2/'), {})).toBe(false);
    expect(isAllowedUrl(new URL('http://r.io:5000/v2/'), { insecureRegistries: ['r.io:5000'] })).toBe(true);
    expect(isAllowedUrl(new URL('file:///etc/passwd'), { insecureRegistries: ['r.io:5000'] })).toBe(false);
  });
});

describe('Wasm artifacts', () => {
  const manifest = (layers: unknown[], extra = {}) => Buffer.from(JSON.stringify({ schemaVersion: 2, layers, ...extra }));

  it('takes the one Wasm layer of a component artifact, in the CNCF and older layouts', () => {
    for (const mediaType of ['application/wasm', 'application/vnd.wasm.content.layer.v1+wasm', 'application/vnd.module.wasm.content.layer.v1+wasm']) {
      expect(readManifest(manifest([{ mediaType, digest: DIGEST, size: 10 }]), '')).toEqual({ kind: 'manifest', layer: { mediaType, digest: DIGEST, size: 10 } });
    }
    const artifact = wasmArtifact({ digest: DIGEST, size: 10 }, 'wasip2', '2026-01-01T00:00:00Z');
    expect(readManifest(artifact.manifest(DIGEST), '')).toMatchObject({ kind: 'manifest', layer: { digest: DIGEST } });
    expect(JSON.parse(artifact.config.toString())).toEqual({ created: '2026-01-01T00:00:00Z', architecture: 'wasm', os: 'wasip2', layerDigests: [DIGEST] });
  });

  it('says why it cannot run an artifact', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('nope'), /not JSON/],
      [manifest([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: DIGEST, size: 1 }]), /not container images/],
      [manifest([{ mediaType: 'application/wasm', digest: DIGEST, size: 1 }, { mediaType: 'application/wasm', digest: DIGEST, size: 1 }]), /Spin application/],
      [manifest([{ mediaType: 'application/wasm', digest: 'md5:1', size: 1 }]), /no sha256 digest/],
      [manifest([{ mediaType: 'application/wasm', digest: DIGEST, size: 2 ** 40 }]), /more than/],
      [manifest([], { manifests: [{ digest: DIGEST, platform: { os: 'linux', architecture: 'arm64' } }] }), /no wasm platform/],
    ];
    for (const [bytes, why] of cases) expect(() => readManifest(bytes, '')).toThrow(why);
  });

  it('throws only UnsupportedArtifactError on hostile manifests (seeded fuzz)', () => {
    const next = seededRandom(99);
    for (let i = 0; i < 3000; i++) {
      const doc = next() < 0.7 ? { schemaVersion: 2, ...(hostileJson(next) as object) } : hostileJson(next);
      try {
        readManifest(Buffer.from(JSON.stringify(doc) ?? ''), 'application/vnd.oci.image.index.v1+json');
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedArtifactError);
      }
    }
  });
});

describe('request labels for metrics', () => {
  it('never throws, and never mints a label from a hostile path (seeded fuzz)', () => {
    const next = seededRandom(3);
    const known = new Set(['/api', '/apis', '/openapi', '/version', '/healthz', '/livez', '/readyz', '/metrics', '/dashboard', '/registry', 'other']);
    for (let i = 0; i < 5000; i++) {
      const path = `/${['api/v1/', 'apis/apps/v1/', ''][Math.floor(next() * 3)]}${hostileString(next).replace(/[?#]/g, '')}`;
      const labels = requestLabels('GET', path, new URLSearchParams());
      expect(labels.resource.length).toBeLessThan(64);
      if (labels.scope === '') expect(known.has(labels.resource), labels.resource).toBe(true);
    }
  });
});
