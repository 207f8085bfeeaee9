// Protobuf field numbers (k8s.io/api generated.proto) of the access-control kinds kubectl's typed
// clients send: rbac.authorization.k8s.io/v1 roles and bindings (kubectl create role|clusterrole|
// rolebinding|clusterrolebinding), authorization.k8s.io/v1 reviews (kubectl auth can-i) and
// authentication.k8s.io/v1 SelfSubjectReview (kubectl auth whoami) and TokenRequest (kubectl create token).
import { labelSelector, objectMeta } from './protobuf-schemas.js';
import type { Schema } from './protobuf-wire.js';

const s = (name: string): Schema[number] => ({ name, kind: 'string' });
const strings = (name: string): Schema[number] => ({ name, kind: 'string', repeated: true });
const meta: Schema[number] = { name: 'metadata', kind: objectMeta };

const policyRule: Schema = { 1: strings('verbs'), 2: strings('apiGroups'), 3: strings('resources'), 4: strings('resourceNames'), 5: strings('nonResourceURLs') };
const subject: Schema = { 1: s('kind'), 2: s('apiGroup'), 3: s('name'), 4: s('namespace') };
const roleRef: Schema = { 1: s('apiGroup'), 2: s('kind'), 3: s('name') };

export const role: Schema = { 1: meta, 2: { name: 'rules', kind: policyRule, repeated: true } };
export const clusterRole: Schema = {
  ...role,
  3: { name: 'aggregationRule', kind: { 1: { name: 'clusterRoleSelectors', kind: labelSelector, repeated: true } } },
};
export const roleBinding: Schema = { 1: meta, 2: { name: 'subjects', kind: subject, repeated: true }, 3: { name: 'roleRef', kind: roleRef } };

const resourceAttributes: Schema = {
  1: s('namespace'), 2: s('verb'), 3: s('group'), 4: s('version'), 5: s('resource'), 6: s('subresource'), 7: s('name'),
};
const nonResourceAttributes: Schema = { 1: s('path'), 2: s('verb') };
const attributes: Schema = {
  1: { name: 'resourceAttributes', kind: resourceAttributes }, 2: { name: 'nonResourceAttributes', kind: nonResourceAttributes },
};

export const selfSubjectAccessReview: Schema = { 1: meta, 2: { name: 'spec', kind: attributes } };
export const subjectAccessReview: Schema = {
  1: meta, 2: { name: 'spec', kind: { ...attributes, 3: s('user'), 4: strings('groups'), 6: s('uid') } },
};
export const selfSubjectRulesReview: Schema = { 1: meta, 2: { name: 'spec', kind: { 1: s('namespace') } } };
export const selfSubjectReview: Schema = { 1: meta };
export const tokenRequest: Schema = {
  1: meta,
  2: { name: 'spec', kind: {
    1: strings('audiences'), 4: { name: 'expirationSeconds', kind: 'ptrInt' },
    3: { name: 'boundObjectRef', kind: { 1: s('kind'), 2: s('apiVersion'), 3: s('name'), 4: s('uid') } },
  } },
};
