// Projected ServiceAccount tokens on the agent: the kube-api-access volume's token, ca.crt and
// namespace in memory, rotated at 80 % of the token's life on the injected clock, taken back after a
// restart, a refusal making the pod wait, and no answer at all (offline) not stopping it.
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerConfigError } from '../../agent/pods/container-config.js';
import { ConfigSet } from '../../agent/pods/config-lookup.js';
import { PodVolumes, VolumeNotReadyError, type VolumeHostOptions } from '../../agent/pods/pod-volumes.js';
import { TokenRequestError, type ProjectedTokenRequest, type ServiceAccountTokenSource } from '../../agent/credentials/token-request-client.js';
import { jwtTimes, tokenSources } from '../../agent/volumes/projected-tokens.js';
import type { Pod } from '../../api/types/pod.js';
import { apiAccessVolume, SERVICE_ACCOUNT_MOUNT_PATH } from '../../control-plane/resources/service-account-admission.js';
import { waitFor } from '../mqtt/wait-for.js';
import { FakeClock } from '../support/fake-clock.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'skiff-sa-token-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const VOLUME = 'kube-api-access-abcde';
const pod = (extra: Array<Record<string, unknown>> = []): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team', uid: 'uid-1' },
  spec: {
    serviceAccountName: 'builder',
    containers: [{ name: 'main', image: 'x', volumeMounts: [{ name: VOLUME, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }] }],
    volumes: [apiAccessVolume(VOLUME) as never, ...extra as never[]],
  } as Pod['spec'],
});
const config = new ConfigSet([{ namespace: 'team', name: 'kube-root-ca.crt', data: { 'ca.crt': 'CA PEM' } }]);
const jwt = (n: number, iat: number, exp: number) =>
  `h.${Buffer.from(JSON.stringify({ n, iat: Math.floor(iat / 1000), exp: Math.floor(exp / 1000) })).toString('base64url')}.s`;

class Source implements ServiceAccountTokenSource {
  calls: ProjectedTokenRequest[] = [];
  fail: Error | undefined;
  constructor(private readonly clock: FakeClock) {}
  async request(r: ProjectedTokenRequest) {
    this.calls.push(r);
    if (this.fail) throw this.fail;
    const now = this.clock.now();
    const expiresAt = now + r.expirationSeconds * 1000;
    return { token: jwt(this.calls.length, now, expiresAt), expiresAt };
  }
}

const host = (clock: FakeClock, source?: ServiceAccountTokenSource): VolumeHostOptions => ({
  dataDir: join(dir, 'data'), memoryDir: join(dir, 'shm'), allowedHostPaths: [],
  ...(source ? { serviceAccountTokens: { source, clock } } : {}),
});
const tokenFile = () => join(dir, 'shm', 'uid-1', VOLUME, 'token');
const tokenNumber = () => (JSON.parse(Buffer.from(readFileSync(tokenFile(), 'utf8').split('.')[1]!, 'base64url').toString()) as { n: number }).n;

describe('projected ServiceAccount tokens', () => {
  it('writes token, ca.crt and namespace in memory, read-only, bound to the pod as its ServiceAccount', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await volumes.prepare();
    expect(source.calls).toEqual([{ namespace: 'team', serviceAccount: 'builder', pod: { name: 'web', uid: 'uid-1' }, expirationSeconds: 3607 }]);
    const [preopen] = volumes.preopens(pod().spec.containers[0]!);
    expect(preopen).toMatchObject({ guestPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true });
    expect(preopen!.hostPath.startsWith(join(dir, 'shm'))).toBe(true); // tmpfs, never the data dir
    expect(tokenNumber()).toBe(1);
    expect(readFileSync(join(preopen!.hostPath, 'ca.crt'), 'utf8')).toBe('CA PEM');
    expect(readFileSync(join(preopen!.hostPath, 'namespace'), 'utf8')).toBe('team');
    expect(statSync(join(dir, 'shm', 'uid-1', VOLUME)).mode & 0o777).toBe(0o700);
    await volumes.cleanup();
  });

  it('rotates at 80 % of the token lifetime on the injected clock, and stops after cleanup', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await volumes.prepare();
    clock.advance(0.79 * 3607_000);
    expect(source.calls).toHaveLength(1);
    clock.advance(0.02 * 3607_000);
    await waitFor('the rotated token', () => tokenNumber() === 2);
    clock.advance(0.81 * 3607_000);
    await waitFor('the second rotation', () => tokenNumber() === 3);
    await volumes.cleanup();
    clock.advance(3 * 3607_000);
    expect(source.calls).toHaveLength(3);
  });

  it('keeps the current token when a rotation fails, retrying until one is issued', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await volumes.prepare();
    source.fail = new TokenRequestError('down');
    clock.advance(0.81 * 3607_000);
    await waitFor('a failed rotation', () => source.calls.length === 2);
    expect(tokenNumber()).toBe(1);
    source.fail = undefined;
    clock.advance(10_000);
    await waitFor('the retried rotation', () => tokenNumber() === 3);
    await volumes.cleanup();
  });

  it('waits (ContainerCreating) when the API refuses the token, e.g. no such ServiceAccount', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    source.fail = new TokenRequestError('serviceaccounts "builder" not found', 404);
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await expect(volumes.prepare()).rejects.toBeInstanceOf(VolumeNotReadyError);
    await expect(volumes.prepare()).rejects.toThrow('failed to fetch token: serviceaccounts "builder" not found');
    source.fail = undefined;
    await volumes.prepare();
    expect(tokenNumber()).toBe(3);
    await volumes.cleanup();
  });

  it('starts the pod offline without a token, and writes one when the API answers again', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    source.fail = new TokenRequestError('the control plane has not announced its API (offline?)');
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await volumes.prepare();
    const [preopen] = volumes.preopens(pod().spec.containers[0]!);
    expect(readFileSync(join(preopen!.hostPath, 'namespace'), 'utf8')).toBe('team');
    expect(() => readFileSync(tokenFile())).toThrow();
    source.fail = undefined;
    clock.advance(10_000);
    await waitFor('the token once online', () => { try { return tokenNumber() === 2; } catch { return false; } });
    await volumes.cleanup();
  });

  it('takes back a valid token written before an agent restart, without asking', async () => {
    const clock = new FakeClock();
    const source = new Source(clock);
    mkdirSync(join(dir, 'shm', 'uid-1', VOLUME), { recursive: true });
    writeFileSync(tokenFile(), jwt(42, clock.now() - 60_000, clock.now() + 3000_000));
    const volumes = new PodVolumes(pod(), host(clock, source), config, { nodeName: 'n1' });
    await volumes.prepare();
    expect(source.calls).toHaveLength(0);
    expect(tokenNumber()).toBe(42);
    clock.advance(3000_000);
    await waitFor('the rotation of the adopted token', () => tokenNumber() === 1);
    await volumes.cleanup();
  });

  it('close() during a prepare waiting for its token: waits for it, and nothing is written after', async () => {
    // the agent closes its pods' volumes, then removes its tmpfs directory: a token answered late
    // wrote the volume under that rm (ENOTEMPTY, CI) or left it behind
    const clock = new FakeClock();
    let answer!: () => void;
    const gated: ServiceAccountTokenSource = {
      request: async (r) => {
        await new Promise<void>((resolve) => { answer = resolve; });
        return new Source(clock).request(r);
      },
    };
    const volumes = new PodVolumes(pod(), host(clock, gated), config, { nodeName: 'n1' });
    const preparing = volumes.prepare();
    await waitFor('the token request', () => answer !== undefined);
    let closed = false;
    const closing = volumes.close().then(() => { closed = true; });
    await Promise.resolve();
    expect(closed).toBe(false); // the prepare is still in flight
    answer();
    await closing;
    await expect(preparing).rejects.toBeInstanceOf(VolumeNotReadyError);
    expect(existsSync(join(dir, 'shm', 'uid-1'))).toBe(false);
  });

  it('refuses the volume on an agent that cannot request tokens', async () => {
    const clock = new FakeClock();
    await expect(new PodVolumes(pod(), host(clock), config, { nodeName: 'n1' }).prepare()).rejects.toBeInstanceOf(ContainerConfigError);
  });

  it('reads audience, path and expiry from serviceAccountToken sources, with the real defaults', () => {
    const p = pod([{ name: 'vault', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 'vault-token' } }, { serviceAccountToken: { path: 't', expirationSeconds: 5 } }] } }]);
    expect(tokenSources(p)).toEqual([
      { volume: VOLUME, path: 'token', expirationSeconds: 3607 },
      { volume: 'vault', path: 'vault-token', audience: 'vault', expirationSeconds: 3600 },
      { volume: 'vault', path: 't', expirationSeconds: 3600 },
    ]);
    expect(jwtTimes('not-a-jwt')).toBeUndefined();
    expect(jwtTimes(`a.${Buffer.from('{"iat":5,"exp":4}').toString('base64url')}.c`)).toBeUndefined();
  });
});
