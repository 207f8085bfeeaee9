// The shapes of every kind skiff serves beyond api/types (pods, nodes, namespaces, events, leases).
export type * from './workloads.js';
export type * from './services.js';
export type * from './config.js';
export type * from './autoscaling.js';
export type * from './storage.js';
export type * from './rbac.js';
export type * from './statefulsets.js';
export type * from './cronjobs.js';
export type * from './policy.js';
export type * from './scheduling.js';
