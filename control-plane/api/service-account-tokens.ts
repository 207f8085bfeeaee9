// ServiceAccount tokens as the real API server issues them (TokenRequest): JWTs signed ES256 with the
// cluster's key (DATA_DIR/sa-signing-key.jwk, made at first start), with issuer, audiences, expiry and
// the kubernetes.io claims (namespace, ServiceAccount name and uid, the bound Pod or Secret). Verifying
// checks signature, issuer, expiry, that an audience is the API's, and that the ServiceAccount (and
// the bound object) still exist with the same uid: deleting one revokes its tokens.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { ApiUser } from './api-user.js';
import { SERVICE_ACCOUNT_PREFIX } from './authorization/rbac/rbac-rules.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const ALG = 'ES256';

export interface BoundObject { kind: 'Pod' | 'Secret'; name: string; uid: string }

export interface TokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences: string[];
  expirationSeconds: number;
  bound?: BoundObject | undefined;
}

export interface ServiceAccountTokens {
  readonly issuer: string;
  /** What the API accepts as a token's audience (default: the issuer). */
  readonly apiAudiences: readonly string[];
  issue(claims: TokenClaims): Promise<{ token: string; expiresAt: Date }>;
  /** The user of a valid token for this API, or undefined. */
  authenticate(token: string): Promise<ApiUser | undefined>;
}

interface KubeClaims {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
}

/** Reads the signing key from `dataDir`, making one on first start. */
export async function loadSigningKey(dataDir: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const path = join(dataDir, 'sa-signing-key.jwk');
  let jwk: JWK | undefined;
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
  } catch {
    const pair = await generateKeyPair(ALG, { extractable: true });
    jwk = await exportJWK(pair.privateKey);
    await writeFile(path, `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
  }
  const privateKey = await importJWK(jwk, ALG) as CryptoKey;
  const { d: _private, ...pub } = jwk;
  const publicKey = await importJWK(pub, ALG) as CryptoKey;
  return { privateKey, publicKey };
}

export function serviceAccountTokens(options: {
  keys: { privateKey: CryptoKey; publicKey: CryptoKey };
  resources: ResourceStore;
  clock: Clock;
  issuer?: string;
  apiAudiences?: string[];
}): ServiceAccountTokens {
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const apiAudiences = options.apiAudiences ?? [issuer];
  const { resources, clock, keys } = options;
  const exists = async (plural: 'serviceaccounts' | 'pods' | 'secrets', namespace: string, name: string | undefined, uid: string | undefined) => {
    if (!name || !uid) return false;
    const obj = await resources.get<KubeObject>(resourceTypes[plural], namespace, name).catch(() => undefined);
    return obj?.metadata.uid === uid && !obj.metadata.deletionTimestamp;
  };
  return {
    issuer,
    apiAudiences,
    async issue(c) {
      const now = Math.floor(clock.now() / 1000);
      const exp = now + c.expirationSeconds;
      const kube: KubeClaims = {
        namespace: c.namespace,
        serviceaccount: { name: c.serviceAccount.name, uid: c.serviceAccount.uid },
        ...(c.bound?.kind === 'Pod' ? { pod: { name: c.bound.name, uid: c.bound.uid } } : {}),
        ...(c.bound?.kind === 'Secret' ? { secret: { name: c.bound.name, uid: c.bound.uid } } : {}),
      };
      const token = await new SignJWT({ 'kubernetes.io': kube })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setIssuer(issuer).setSubject(`${SERVICE_ACCOUNT_PREFIX}${c.namespace}:${c.serviceAccount.name}`)
        .setAudience(c.audiences).setIssuedAt(now).setNotBefore(now).setExpirationTime(exp).setJti(randomUUID())
        .sign(keys.privateKey);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    async authenticate(token) {
      if (token.split('.').length !== 3 || token.length > 16 * 1024) return undefined;
      let payload;
      try {
        ({ payload } = await jwtVerify(token, keys.publicKey, {
          algorithms: [ALG], issuer, audience: [...apiAudiences], currentDate: new Date(clock.now()), clockTolerance: 5,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch {
        return undefined;
      }
      const kube = payload['kubernetes.io'] as KubeClaims | undefined;
      const ns = kube?.namespace;
      const sa = kube?.serviceaccount;
      if (!ns || !sa?.name || payload.sub !== `${SERVICE_ACCOUNT_PREFIX}${ns}:${sa.name}`) return undefined;
      if (!(await exists('serviceaccounts', ns, sa.name, sa.uid))) return undefined;
      if (kube.pod && !(await exists('pods', ns, kube.pod.name, kube.pod.uid))) return undefined;
      if (kube.secret && !(await exists('secrets', ns, kube.secret.name, kube.secret.uid))) return undefined;
      return { name: `${SERVICE_ACCOUNT_PREFIX}${ns}:${sa.name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`] };
    },
  };
}
