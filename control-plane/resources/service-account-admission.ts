// The ServiceAccount admission plugin, as the real API server runs it on pod create: the pod runs as
// spec.serviceAccountName (default `default`) and, unless automountServiceAccountToken is false on
// the pod (or, when the pod does not say, on its ServiceAccount), gets the projected volume
// `kube-api-access-XXXXX` (a bound token rotated by the agent, the cluster CA from the
// kube-root-ca.crt ConfigMap, the namespace) mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every container that has no mount there.
// A pod naming a ServiceAccount that does not exist is refused as the real plugin words it (403:
// `pods "x" is forbidden: error looking up service account ns/sa: serviceaccount "sa" not found`);
// controllers retry (FailedCreate events) until it exists. `default` too (docs/decisions/059): the
// ServiceAccount controller creates it moments after its namespace, so its lookup is tried 10 times
// 100-200 ms apart, as the real plugin does, and ends early when this process writes it.
import { customAlphabet } from 'nanoid';
import type { Clock } from '../../api/clock.js';
import { NotFoundError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { ServiceAccount } from './kinds/config.js';
import { forbidden } from './policy-admission.js';
import { resourceTypes, type ResourceType } from './resource-types.js';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
/** What the real plugin asks for: an hour, plus a few seconds that mark it as an auto-mounted token. */
export const AUTOMOUNT_TOKEN_SECONDS = 3607;

const suffix = customAlphabet('bcdfghjklmnpqrstvwxz2456789', 5);

/** The projected volume the plugin adds (exported for tests and the docs). */
export function apiAccessVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: AUTOMOUNT_TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/** How many times the real plugin looks up `default` before refusing (other names: once). */
export const DEFAULT_SERVICE_ACCOUNT_ATTEMPTS = 10;

interface ServiceAccountSource {
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T>;
  onWrite(listener: (type: ResourceType, kind: 'put' | 'delete', obj: KubeObject) => void): () => void;
}

/**
 * Reads a pod's ServiceAccount as the real plugin does: once, or for `default` up to 10 times with
 * a random 100-200 ms pause (on `clock`), the controller creating it meanwhile; a write of it
 * through `source` ends the pause at once. Undefined when it does not exist.
 */
export function serviceAccountLookup(source: ServiceAccountSource, clock: Clock, random: () => number = Math.random) {
  return async (namespace: string, name: string): Promise<ServiceAccount | undefined> => {
    const attempts = name === 'default' ? DEFAULT_SERVICE_ACCOUNT_ATTEMPTS : 1;
    const pauseMs = 100 + Math.floor(random() * 100);
    let written = false;
    let wake: (() => void) | undefined;
    const off = attempts > 1 ? source.onWrite((type, kind, obj) => {
      if (type !== resourceTypes.serviceaccounts || kind !== 'put' || obj.metadata?.namespace !== namespace || obj.metadata?.name !== name) return;
      written = true;
      wake?.();
    }) : undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        written = false;
        const sa = await source.get<ServiceAccount>(resourceTypes.serviceaccounts, namespace, name).catch((e: unknown) => {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        });
        if (sa || attempt >= attempts) return sa;
        if (written) continue;
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(() => resolve(), pauseMs);
          wake = () => { timer.cancel(); resolve(); };
        });
        wake = undefined;
      }
    } finally {
      off?.();
    }
  };
}

/**
 * Mutates a pod being created. `serviceAccount` reads the pod's ServiceAccount (undefined when it
 * does not exist). Mirror pods and pods whose spec is not an object are left alone (validation
 * reports those).
 */
export async function admitPodServiceAccount(pod: Pod, serviceAccount: (namespace: string, name: string) => Promise<ServiceAccount | undefined>): Promise<void> {
  const spec = pod.spec as Pod['spec'] | undefined;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  const s = spec as Pod['spec'] & Record<string, unknown>;
  const name = typeof s['serviceAccountName'] === 'string' && s['serviceAccountName'] ? s['serviceAccountName'] : 'default';
  s['serviceAccountName'] = name;
  // deprecated alias, as the real server keeps it
  if (s['serviceAccount'] === undefined || s['serviceAccount'] === '') s['serviceAccount'] = name;
  const namespace = pod.metadata?.namespace ?? 'default';
  const sa = await serviceAccount(namespace, name);
  if (!sa) {
    throw forbidden(resourceTypes.pods, pod, `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`);
  }
  let automount = s['automountServiceAccountToken'];
  if (typeof automount !== 'boolean') automount = sa?.automountServiceAccountToken ?? true;
  if (automount !== true) return;
  const containers: Container[] = [
    ...(Array.isArray(spec.initContainers) ? spec.initContainers : []),
    ...(Array.isArray(spec.containers) ? spec.containers : []),
  ].filter((c) => c && typeof c === 'object');
  const needing = containers.filter((c) => !(Array.isArray(c.volumeMounts) ? c.volumeMounts : []).some((m) => m?.mountPath === SERVICE_ACCOUNT_MOUNT_PATH || m?.mountPath === `${SERVICE_ACCOUNT_MOUNT_PATH}/`));
  if (needing.length === 0) return;
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  let volumeName = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(API_ACCESS_VOLUME_PREFIX))?.name;
  if (!volumeName) {
    volumeName = `${API_ACCESS_VOLUME_PREFIX}${suffix()}`;
    while (volumes.some((v) => v?.name === volumeName)) volumeName = `${API_ACCESS_VOLUME_PREFIX}${suffix()}`;
    spec.volumes = [...volumes, apiAccessVolume(volumeName) as never];
  }
  for (const c of needing) {
    c.volumeMounts = [...(Array.isArray(c.volumeMounts) ? c.volumeMounts : []), { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
}
