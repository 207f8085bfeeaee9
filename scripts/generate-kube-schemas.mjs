#!/usr/bin/env node
// Generates control-plane/resources/schema/kube-schemas.json: the OpenAPI-style schema of every kind
// skiff serves (and the request bodies it reads), derived from @kubernetes/client-node's generated
// models: each model's attributeTypeMap gives every field's JSON name, type and format (int32, int64,
// date-time, byte), and its .d.ts gives which fields are required and their descriptions. Quantity is
// the one type the models flatten to "string": QUANTITY_FIELDS below restores it (checked to exist).
// Run after upgrading @kubernetes/client-node: `npm run schemas:generate`; a test fails while the
// committed file differs from what this script makes.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const clientDir = dirname(require.resolve('@kubernetes/client-node/package.json'));
const clientVersion = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8')).version;
const modelsDir = join(clientDir, 'dist', 'gen', 'models');
const out = join(root, 'control-plane', 'resources', 'schema', 'kube-schemas.json');

/** The kinds skiff serves and the bodies it decodes: apiVersion/kind -> client-node model. */
const ROOTS = {
  'v1/Pod': 'V1Pod', 'v1/Node': 'V1Node', 'v1/Namespace': 'V1Namespace', 'v1/Event': 'CoreV1Event',
  'v1/Service': 'V1Service', 'v1/Endpoints': 'V1Endpoints', 'v1/ConfigMap': 'V1ConfigMap', 'v1/Secret': 'V1Secret',
  'v1/ServiceAccount': 'V1ServiceAccount', 'v1/PersistentVolume': 'V1PersistentVolume',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim', 'v1/Binding': 'V1Binding',
  'v1/ReplicationController': 'V1ReplicationController', 'v1/ResourceQuota': 'V1ResourceQuota', 'v1/LimitRange': 'V1LimitRange', 'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'coordination.k8s.io/v1/Lease': 'V1Lease',
  'apps/v1/Deployment': 'V1Deployment', 'apps/v1/ReplicaSet': 'V1ReplicaSet', 'apps/v1/DaemonSet': 'V1DaemonSet',
  'apps/v1/ControllerRevision': 'V1ControllerRevision', 'apps/v1/StatefulSet': 'V1StatefulSet', 'batch/v1/Job': 'V1Job', 'batch/v1/CronJob': 'V1CronJob',
  'autoscaling/v2/HorizontalPodAutoscaler': 'V2HorizontalPodAutoscaler', 'autoscaling/v1/HorizontalPodAutoscaler': 'V1HorizontalPodAutoscaler',
  'autoscaling/v1/Scale': 'V1Scale', 'policy/v1/Eviction': 'V1Eviction', 'meta/v1/DeleteOptions': 'V1DeleteOptions',
  'networking.k8s.io/v1/Ingress': 'V1Ingress', 'networking.k8s.io/v1/IngressClass': 'V1IngressClass',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy', 'discovery.k8s.io/v1/EndpointSlice': 'V1EndpointSlice',
  'storage.k8s.io/v1/StorageClass': 'V1StorageClass', 'scheduling.k8s.io/v1/PriorityClass': 'V1PriorityClass',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role', 'rbac.authorization.k8s.io/v1/ClusterRole': 'V1ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'V1ClusterRoleBinding',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'V1SelfSubjectAccessReview', 'authorization.k8s.io/v1/SubjectAccessReview': 'V1SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'V1LocalSubjectAccessReview', 'authorization.k8s.io/v1/SelfSubjectRulesReview': 'V1SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'V1SelfSubjectReview', 'authentication.k8s.io/v1/TokenRequest': 'AuthenticationV1TokenRequest',
  'authentication.k8s.io/v1/TokenReview': 'V1TokenReview',
};

/** Fields whose OpenAPI type is resource.Quantity (a string or a number), which the models type as string. */
const QUANTITY_FIELDS = [
  'V1ResourceRequirements.limits', 'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits', 'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit', 'V1ResourceFieldSelector.divisor', 'V1PodSpec.overhead',
  'V1ContainerStatus.allocatedResources',
  'V1NodeStatus.allocatable', 'V1NodeStatus.capacity', 'V1PersistentVolumeSpec.capacity',
  'V1PersistentVolumeClaimStatus.allocatedResources', 'V1PersistentVolumeClaimStatus.capacity',
  'V2MetricTarget.averageValue', 'V2MetricTarget.value', 'V2MetricValueStatus.averageValue', 'V2MetricValueStatus.value',
  'V2HPAScalingRules.tolerance',
  'V1ResourceQuotaSpec.hard', 'V1ResourceQuotaStatus.hard', 'V1ResourceQuotaStatus.used',
  'V1LimitRangeItem.default', 'V1LimitRangeItem.defaultRequest', 'V1LimitRangeItem.max', 'V1LimitRangeItem.min', 'V1LimitRangeItem.maxLimitRequestRatio',
];

const models = await import('@kubernetes/client-node');

/** Required fields and descriptions from a model's declaration file. */
function declarations(model) {
  const file = join(modelsDir, `${model}.d.ts`);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const fields = new Map();
  let description = '';
  const doc = (node) => (ts.getJSDocCommentsAndTags(node).map((d) => (typeof d.comment === 'string' ? d.comment : '')).join('\n').trim());
  source.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || node.name?.text !== model) return;
    description = doc(node);
    for (const member of node.members) {
      if (!ts.isPropertyDeclaration(member) || member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue;
      const name = ts.isStringLiteral(member.name) ? member.name.text : member.name.getText(source);
      fields.set(name, { required: !member.questionToken, description: doc(member) });
    }
  });
  return { description: unescape(description), fields };
}

const unescape = (text) => text.replace(/\\"/g, '"').replace(/\\'/g, "'");

const definitions = {};
const pending = Object.values(ROOTS);
const queued = new Set(pending);

/** An attributeTypeMap type string (e.g. "Array<V1Container>", "{ [key: string]: string; }") as a schema. */
function schemaOf(type, format, where) {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { type: 'array', items: schemaOf(array[1], '', where) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { type: 'object', additionalProperties: schemaOf(map[1], '', where) };
  switch (type) {
    case 'string': return format ? { type: 'string', format } : { type: 'string' };
    case 'Date': case 'V1MicroTime': return { type: 'string', format: 'date-time' };
    case 'boolean': return { type: 'boolean' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return { type: 'number', ...(format ? { format } : {}) };
    case 'IntOrString': return { 'x-kubernetes-int-or-string': true };
    case 'any': case 'object': return { 'x-kubernetes-preserve-unknown-fields': true };
    default:
      if (!models[type]?.attributeTypeMap) throw new Error(`${where}: unknown type ${type}`);
      if (!queued.has(type)) {
        queued.add(type);
        pending.push(type);
      }
      return { $ref: type };
  }
}

const quantity = { type: 'string', format: 'quantity', 'x-kubernetes-int-or-string': true };
const unusedQuantities = new Set(QUANTITY_FIELDS);

while (pending.length) {
  const model = pending.shift();
  const { description, fields } = declarations(model);
  const properties = {};
  const required = [];
  for (const attr of models[model].attributeTypeMap) {
    let schema = schemaOf(attr.type, attr.format, `${model}.${attr.baseName}`);
    const key = `${model}.${attr.baseName}`;
    if (unusedQuantities.delete(key)) {
      if (schema.type === 'string') schema = { ...quantity };
      else if (schema.additionalProperties?.type === 'string') schema = { type: 'object', additionalProperties: { ...quantity } };
      else throw new Error(`${key} is listed as a Quantity but typed ${attr.type}`);
    }
    const decl = fields.get(attr.name) ?? fields.get(attr.baseName);
    if (decl?.description) schema.description = unescape(decl.description);
    if (decl?.required) required.push(attr.baseName);
    properties[attr.baseName] = schema;
  }
  definitions[model] = { type: 'object', ...(description ? { description } : {}), ...(required.length ? { required } : {}), properties };
}
for (const key of QUANTITY_FIELDS) {
  const [model] = key.split('.');
  if (unusedQuantities.has(key) && definitions[model]) throw new Error(`${key} is listed as a Quantity but the model has no such field`);
}

const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
const document = { source: `@kubernetes/client-node ${clientVersion} (generated by scripts/generate-kube-schemas.mjs)`, kinds: ROOTS, definitions: sorted };
const text = `${JSON.stringify(document, null, 1)}\n`;
if (process.argv.includes('--check')) {
  const current = readFileSync(out, 'utf8');
  if (current !== text) {
    console.error(`${out} is out of date: run npm run schemas:generate`);
    process.exit(1);
  }
  console.log(`${out} is up to date (${Object.keys(definitions).length} definitions)`);
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}: ${Object.keys(definitions).length} definitions, ${text.length} bytes`);
}
