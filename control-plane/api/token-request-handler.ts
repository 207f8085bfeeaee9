// POST .../serviceaccounts/NAME/token (TokenRequest, `kubectl create token`): a signed, expiring,
// audience-bound token for the ServiceAccount, optionally bound to a Pod or Secret of its namespace.
// expirationSeconds defaults to 1 h and must be 10 min .. 48 h (the real server's default maximum
// for tokens not bound to a pod is also capped); audiences default to the API's.
import type { Context } from 'hono';
import { BadRequestError, ForbiddenError, MethodNotAllowedError, ValidationError, type StatusCause } from '../../api/errors.js';
import { rfc3339 } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { Pod } from '../../api/types/pod.js';
import type { ApiUser } from './api-user.js';
import { NODE_USER_PREFIX, NODES_GROUP } from './authorization/node-authorizer.js';
import { invalid, notSupported } from '../resources/field-causes.js';
import { resourceTypes } from '../resources/resource-types.js';
import type { ApiDeps } from './api-deps.js';
import { decodeFields } from './field-validation.js';
import { readBodyFields } from './request-body.js';
import type { ResourceTarget } from './resource-path.js';
import type { BoundObject } from './service-account-tokens.js';

const tokenRequestKind = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', group: 'authentication.k8s.io' };
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 48 * 3600;
const DEFAULT_EXPIRATION_SECONDS = 3600;
const maxAudiences = 32;

export async function requestToken(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const body = await readBodyFields(c, deps.maxBodyBytes, ['application/yaml', 'application/vnd.kubernetes.protobuf']);
  decodeFields(c, tokenRequestKind, body.value, body.duplicateFields);
  const req = body.value as KubeObject & { spec?: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } } };
  if (req.kind !== undefined && req.kind !== 'TokenRequest') throw new BadRequestError(`the body must be a TokenRequest, not ${String(req.kind)}`);
  const namespace = t.namespace ?? '';
  const spec = req.spec ?? {};
  const user = c.get('user') as ApiUser | undefined;
  if (isNode(user) && spec.boundObjectRef?.kind !== 'Pod') restrictNode(user, t.name, namespace, undefined); // before any read: nothing to learn from a 404
  const tokens = deps.serviceAccountTokens;
  if (!tokens) throw new MethodNotAllowedError('this server does not issue ServiceAccount tokens');
  const causes: StatusCause[] = [];
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) causes.push(invalid('spec.expirationSeconds', expirationSeconds, `may not specify a duration less than ${MIN_EXPIRATION_SECONDS} seconds`));
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) causes.push(invalid('spec.expirationSeconds', expirationSeconds, `may not specify a duration greater than ${MAX_EXPIRATION_SECONDS} seconds`));
  const audiences = spec.audiences?.length ? spec.audiences : [...tokens.apiAudiences];
  if (audiences.length > maxAudiences) causes.push(invalid('spec.audiences', audiences.length, `must have at most ${maxAudiences} items`));
  audiences.forEach((a, i) => { if (!a || a.length > 1024) causes.push(invalid(`spec.audiences[${i}]`, a.slice(0, 32), 'must be a non-empty string of at most 1024 characters')); });
  const ref = spec.boundObjectRef;
  if (ref && ref.kind !== 'Pod' && ref.kind !== 'Secret') causes.push(notSupported('spec.boundObjectRef.kind', ref.kind ?? '', ['Pod', 'Secret']));
  if (ref && !ref.name) causes.push(invalid('spec.boundObjectRef.name', ref.name ?? '', 'must be set'));
  if (causes.length) throw new ValidationError({ group: 'authentication.k8s.io', kind: 'TokenRequest', name: t.name }, causes);
  const sa = await deps.resources.get(resourceTypes.serviceaccounts, namespace, t.name);
  let bound: BoundObject | undefined;
  if (ref) {
    const type = ref.kind === 'Pod' ? resourceTypes.pods : resourceTypes.secrets;
    const obj = await deps.resources.get(type, namespace, ref.name!);
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw new ValidationError({ group: 'authentication.k8s.io', kind: 'TokenRequest', name: t.name },
        [invalid('spec.boundObjectRef.uid', ref.uid, `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${obj.metadata.uid ?? ''})`)]);
    }
    bound = { kind: ref.kind as 'Pod' | 'Secret', name: ref.name!, uid: obj.metadata.uid! };
    restrictNode(user, t.name, namespace, ref.kind === 'Pod' ? obj as Pod : undefined);
  }
  const issued = await tokens.issue({ namespace, serviceAccount: { name: t.name, uid: sa.metadata.uid! }, audiences, expirationSeconds, bound });
  return c.json({
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: t.name, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ? { kind: ref.kind, apiVersion: 'v1', name: ref.name, uid: bound?.uid } : null },
    status: { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt.getTime()) },
  }, 201);
}

/**
 * NodeRestriction for TokenRequest: a node asks only for tokens bound to a pod running on it as
 * that ServiceAccount (what it projects into the pod), never for free-standing ones.
 */
function restrictNode(user: ApiUser | undefined, serviceAccount: string, namespace: string, pod: Pod | undefined): void {
  if (!isNode(user)) return;
  const node = user.name.startsWith(NODE_USER_PREFIX) ? user.name.slice(NODE_USER_PREFIX.length) : undefined;
  const who = `node "${node ?? user.name}"`;
  if (!pod) throw new ForbiddenError(`${who} can only create tokens with a boundObjectRef to a pod`);
  if (!node || pod.spec?.nodeName !== node) throw new ForbiddenError(`${who} can only create tokens bound to pods scheduled to it; pod ${namespace}/${pod.metadata.name ?? ''} is not`);
  const runsAs = (pod.spec as Pod['spec'] & { serviceAccountName?: string }).serviceAccountName || 'default';
  if (runsAs !== serviceAccount) throw new ForbiddenError(`${who} can only create tokens for the service account of a pod on it; pod ${namespace}/${pod.metadata.name ?? ''} runs as "${runsAs}", not "${serviceAccount}"`);
}

const isNode = (user: ApiUser | undefined): user is ApiUser => Boolean(user?.groups?.includes(NODES_GROUP));
