// TypeScript shapes of rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.
import type { KubeObject } from '../../../api/types/meta.js';
import type { LabelSelector } from './workloads.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Role extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role';
  rules?: PolicyRule[];
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelector[];
}

export interface ClusterRole extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  rules?: PolicyRule[];
  /** When set, the controller manager fills `rules` with those of every ClusterRole the selectors match. */
  aggregationRule?: AggregationRule;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | (string & {});
  name: string;
  /** rbac.authorization.k8s.io for User and Group, "" for ServiceAccount. */
  apiGroup?: string;
  /** ServiceAccount subjects only. */
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | (string & {});
  name: string;
}

export interface RoleBinding extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'RoleBinding';
  subjects?: Subject[];
  roleRef: RoleRef;
}

export interface ClusterRoleBinding extends KubeObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  subjects?: Subject[];
  roleRef: RoleRef;
}

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
