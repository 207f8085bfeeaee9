// The review APIs, answered and never stored: SelfSubjectAccessReview (`kubectl auth can-i`),
// SubjectAccessReview and LocalSubjectAccessReview (asking for someone else; RBAC decides who may
// create them), SelfSubjectRulesReview (`kubectl auth can-i --list`) and SelfSubjectReview
// (`kubectl auth whoami`). Access reviews ask the same authorizer chain every request passes.
import type { Context, Hono } from 'hono';
import { BadRequestError, ValidationError, type StatusCause } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { invalid, required } from '../resources/field-causes.js';
import { reviewTypes, type ResourceType } from '../resources/resource-types.js';
import type { ApiDeps } from './api-deps.js';
import type { ApiUser } from './api-user.js';
import type { Authorizer } from './authorization/authorizer.js';
import { rulesFor, type RbacPolicySource } from './authorization/rbac/rbac-authorizer.js';
import type { RequestAttributes } from './authorization/request-attributes.js';
import { decodeFields } from './field-validation.js';
import { readBodyFields } from './request-body.js';

interface ReviewDeps {
  authorizer: Authorizer;
  rbac: RbacPolicySource | undefined;
}

const path = (t: ResourceType) => `/apis/${t.group}/${t.version}/${t.namespaced ? 'namespaces/:namespace/' : ''}${t.plural}`;
const maxField = 1024;

async function readReview(c: Context, deps: ApiDeps, t: ResourceType): Promise<KubeObject> {
  const body = await readBodyFields(c, deps.maxBodyBytes, ['application/yaml', 'application/vnd.kubernetes.protobuf']);
  decodeFields(c, t, body.value, body.duplicateFields);
  const obj = body.value as KubeObject;
  if (obj.kind !== undefined && obj.kind !== t.kind) throw new BadRequestError(`the body must be a ${t.kind}, not ${String(obj.kind)}`);
  obj.metadata ??= {};
  return obj;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The request attributes a review's spec asks about (resourceAttributes or nonResourceAttributes, exactly one). */
function reviewAttributes(t: ResourceType, spec: Record<string, any>, user: ApiUser, namespace?: string): RequestAttributes {
  const r = spec['resourceAttributes'];
  const n = spec['nonResourceAttributes'];
  const causes: StatusCause[] = [];
  if (!r && !n) causes.push(required('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (r && n) causes.push(invalid('spec.nonResourceAttributes', n, 'cannot be specified in combination with resourceAttributes'));
  for (const [field, v] of Object.entries({ ...(r ?? {}), ...(n ?? {}) })) {
    if (typeof v === 'string' && v.length > maxField) causes.push(invalid(`spec.${r ? 'resourceAttributes' : 'nonResourceAttributes'}.${field}`, v.slice(0, 32), `must be no more than ${maxField} characters`));
  }
  if (namespace !== undefined && r && str(r.namespace) !== namespace) {
    causes.push(invalid('spec.resourceAttributes.namespace', r.namespace ?? '', 'must match metadata.namespace'));
  }
  if (causes.length) throw new ValidationError({ group: t.group, kind: t.kind }, causes);
  if (n) return { kind: 'non-resource', user, verb: str(n.verb), path: str(n.path) };
  return {
    kind: 'resource', user, verb: str(r.verb), apiGroup: str(r.group), apiVersion: str(r.version), resource: str(r.resource),
    subresource: str(r.subresource), namespace: str(r.namespace), name: str(r.name),
  };
}

async function decide(authorizer: Authorizer, a: RequestAttributes) {
  const d = await authorizer.authorize(a);
  return {
    allowed: d.decision === 'allow',
    ...(d.decision === 'deny' ? { denied: true } : {}),
    ...(d.reason ? { reason: d.reason } : {}),
  };
}

const reply = (c: Context, obj: KubeObject, status: Record<string, unknown>) =>
  c.json({ ...obj, metadata: { ...obj.metadata, creationTimestamp: null }, status }, 201);

export function registerReviewRoutes(app: Hono, deps: ApiDeps, review: ReviewDeps): void {
  const t = reviewTypes;
  app.post(path(t.selfsubjectaccessreviews), async (c) => {
    const obj = await readReview(c, deps, t.selfsubjectaccessreviews);
    const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
    return reply(c, obj, await decide(review.authorizer, reviewAttributes(t.selfsubjectaccessreviews, spec, c.get('user'))));
  });
  const subjectReview = (type: ResourceType) => async (c: Context) => {
    const obj = await readReview(c, deps, type);
    const spec = (obj['spec'] ?? {}) as Record<string, any>;
    const namespace = type.namespaced ? c.req.param('namespace') ?? '' : undefined;
    if (namespace !== undefined && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!str(spec['user']) && !(Array.isArray(spec['groups']) && spec['groups'].length)) {
      throw new ValidationError({ group: type.group, kind: type.kind }, [required('spec.user', 'at least one of user or group must be specified')]);
    }
    const groups = Array.isArray(spec['groups']) ? spec['groups'].filter((g): g is string => typeof g === 'string') : [];
    const subject: ApiUser = { name: str(spec['user']), groups };
    return reply(c, obj, await decide(review.authorizer, reviewAttributes(type, spec, subject, namespace)));
  };
  app.post(path(t.subjectaccessreviews), subjectReview(t.subjectaccessreviews));
  app.post(path(t.localsubjectaccessreviews), subjectReview(t.localsubjectaccessreviews));
  app.post(path(t.selfsubjectrulesreviews), async (c) => {
    const obj = await readReview(c, deps, t.selfsubjectrulesreviews);
    const namespace = str((obj['spec'] as Record<string, unknown> | undefined)?.['namespace']);
    const rules = review.rbac ? rulesFor(review.rbac, c.get('user'), namespace) : [];
    const resourceRules = rules.filter((r) => !r.nonResourceURLs?.length)
      .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
    const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
    // node and monitoring identities are decided by their own authorizers, which list no rules
    const incomplete = !review.rbac || (c.get('user').groups ?? []).some((g) => g === 'system:nodes' || g === 'system:monitoring' || g === 'system:bootstrappers');
    return reply(c, obj, { resourceRules, nonResourceRules, incomplete, ...(incomplete ? { evaluationError: 'rules of authorizers other than RBAC are not listed' } : {}) });
  });
  app.post(path(t.selfsubjectreviews), async (c) => {
    const obj = await readReview(c, deps, t.selfsubjectreviews);
    const user = c.get('user');
    return reply(c, obj, { userInfo: { username: user.name, groups: user.groups ?? [] } });
  });
}
