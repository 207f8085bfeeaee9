// The cluster's secrets in the data dir, made at first start: the admin bearer token (kubeconfig),
// the node bootstrap token (agents join with it), the control plane's own MQTT password, and the
// metrics token (Prometheus scrapes with it; it reads metrics and nothing else); and the users
// these tokens (and nodes' own credentials) are on the HTTPS API.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenAuthenticator } from './api/auth.js';
import { bootstrapUser, nodeUser } from './api/authorization/node-authorizer.js';
import { MASTERS_GROUP } from './api/authorization/privileged-group-authorizer.js';
import { monitoringUser } from './api/authorization/monitoring-authorizer.js';
import { BOOTSTRAP_MQTT_USER } from '../api/mqtt/node-credential.js';
import { sha256Hex, type CredentialChange, type CredentialEntry } from './broker/credential-table.js';
import type { NodeCredentialChange, NodeCredentials } from './nodes/node-credentials.js';

export interface Credentials {
  adminToken: string;
  nodeToken: string;
  controlPlaneMqttPassword: string;
  metricsToken: string;
}

async function readOrCreate(path: string, make: () => string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (text) return text;
  } catch {
    // first start
  }
  const value = make();
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return value;
}

const token = (prefix: string) => () => `${prefix}${randomBytes(24).toString('base64url')}`;

export async function ensureCredentials(dataDir: string): Promise<Credentials> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const [adminToken, nodeToken, controlPlaneMqttPassword, metricsToken] = await Promise.all([
    readOrCreate(join(dataDir, 'admin-token'), token('skiff-admin.')),
    readOrCreate(join(dataDir, 'node-token'), token('skiff-node.')),
    readOrCreate(join(dataDir, 'cp-mqtt-password'), token('skiff-cp.')),
    readOrCreate(join(dataDir, 'metrics-token'), token('skiff-metrics.')),
  ]);
  return { adminToken, nodeToken, controlPlaneMqttPassword, metricsToken };
}

/** The MQTT username of the control plane's own client (not a valid node name: no node can take it). */
export const CONTROL_PLANE_MQTT_USER = 'skiff:control-plane';

/**
 * Who an API bearer token is: the admin token (kubeconfig) is in system:masters, the bootstrap token is
 * the bootstrap user (system:bootstrappers), a node's own credential is system:node:NAME (system:nodes),
 * the metrics token is system:skiff:metrics (system:monitoring).
 */
export function clusterTokenAuthenticator(credentials: Pick<Credentials, 'adminToken' | 'nodeToken'> & Partial<Pick<Credentials, 'metricsToken'>>, nodes: Pick<NodeCredentials, 'nodeFor'>): TokenAuthenticator {
  return (token) => {
    if (token === credentials.adminToken) return { name: 'admin', groups: [MASTERS_GROUP] };
    if (token === credentials.nodeToken) return bootstrapUser();
    if (credentials.metricsToken !== undefined && token === credentials.metricsToken) return monitoringUser();
    const node = nodes.nodeFor(token);
    return node ? nodeUser(node) : undefined;
  };
}

/**
 * Who may connect to the embedded broker, as the hashes its worker holds: the control plane's own
 * user, the bootstrap user (bootstrap token), and each node with its own credential only.
 */
export function brokerCredentialEntries(credentials: Pick<Credentials, 'controlPlaneMqttPassword' | 'nodeToken'>, nodes: Pick<NodeCredentials, 'hashes'>): CredentialEntry[] {
  return [
    { username: CONTROL_PLANE_MQTT_USER, sha256: sha256Hex(credentials.controlPlaneMqttPassword), identity: { kind: 'control-plane' } },
    { username: BOOTSTRAP_MQTT_USER, sha256: sha256Hex(credentials.nodeToken), identity: { kind: 'bootstrap' } },
    ...nodes.hashes().map(brokerCredentialChange).flatMap((change) => ('set' in change ? [change.set] : [])),
  ];
}

/** A node credential issued, rotated or revoked, as a change of the broker's table. */
export function brokerCredentialChange({ node, sha256 }: NodeCredentialChange): CredentialChange {
  return sha256 === undefined ? { remove: node } : { set: { username: node, sha256, identity: { kind: 'node', node } } };
}
