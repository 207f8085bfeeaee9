// Who a node is to the API (Kubernetes' Node authorizer names): the user `system:node:<name>` in the
// group `system:nodes`. The API's authorizer and the node certificates both use these.
export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
