// Payload schemas of the node channel. One schema validates what the control plane and the agents
// receive; anything that fails is logged and dropped by the receiver, never trusted.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

const envelope = {
  v: z.literal(PROTOCOL_VERSION),
  sessionId: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  ts: z.number().int().nonnegative(), // ms since epoch, sender's clock
  /** The sending node, filled by the agent's channel; the control plane drops a payload whose node differs from the topic's. */
  node: z.string().optional(),
};

const stringMap = z.record(z.string(), z.string());
const condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  lastHeartbeatTime: z.string().optional(),
});

/** Birth (online: true) and Will / clean shutdown (online: false). Retained. */
export const presenceMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  sessionId: z.string().min(1).max(64),
  online: z.boolean(),
  ts: z.number().int().nonnegative().optional(),
  /** The sending node (see envelope.node). */
  node: z.string().optional(),
  bootId: z.string().max(64).optional(),
  agentVersion: z.string().max(64).optional(),
  arch: z.string().max(32).optional(),
  os: z.string().max(32).optional(),
});
export type PresenceMessage = z.infer<typeof presenceMessage>;

/** A full node snapshot: sent after birth and whenever something in it changes. */
export const nodeStatusMessage = z.object({
  ...envelope,
  labels: stringMap,
  capacity: stringMap,
  allocatable: stringMap,
  conditions: z.array(condition),
  addresses: z.array(z.object({ type: z.string(), address: z.string() })),
  nodeInfo: stringMap,
  /** Generation of the desired state the agent has applied (0 = none yet). */
  observedGeneration: z.number().int().nonnegative(),
});
export type NodeStatusMessage = z.infer<typeof nodeStatusMessage>;

export const leaseMessage = z.object({
  ...envelope,
  renewTime: z.string(), // RFC 3339 with microseconds, like Lease.spec.renewTime
  leaseDurationSeconds: z.number().int().positive(),
});
export type LeaseMessage = z.infer<typeof leaseMessage>;

/** Where an agent finds a container's component: by digest from the registry, or why not. */
export const imageResolution = z.union([
  z.object({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), url: z.string() }),
  z.object({ error: z.string() }),
]);
export type ImageResolution = z.infer<typeof imageResolution>;

/** One pod as the agent must run it: the whole Pod object (status excluded) plus resolved images. */
export const desiredPod = z.object({
  pod: z.object({
    apiVersion: z.literal('v1'),
    kind: z.literal('Pod'),
    metadata: z.object({ name: z.string(), namespace: z.string(), uid: z.string() }).passthrough(),
    spec: z.object({ containers: z.array(z.object({ name: z.string(), image: z.string() }).passthrough()).min(1) }).passthrough(),
  }).passthrough(),
  podIP: z.string().optional(),
  /** image reference (as written in the spec) -> where to get it */
  images: z.record(z.string(), imageResolution),
  /**
   * The pod has ended for good (Succeeded or Failed): `pod` carries only its identity and container
   * names. The agent keeps what it has (logs, final status) and never starts it. Keeps a node's
   * desired state small however many finished pods (Jobs) it holds.
   */
  finished: z.boolean().optional(),
});
export type DesiredPod = z.infer<typeof desiredPod>;

/** A ConfigMap or Secret a pod of the node references (Secret `data` values are base64, as in the API). */
export const configData = z.object({
  namespace: z.string(),
  name: z.string(),
  data: z.record(z.string(), z.string()).default({}),
  /** ConfigMap binaryData (base64). */
  binaryData: z.record(z.string(), z.string()).optional(),
});
export type ConfigData = z.infer<typeof configData>;

/** The full desired state of one node. Retained; agents apply only a newer generation. */
export const desiredStateMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  node: z.string(),
  generation: z.number().int().nonnegative(),
  cpEpoch: z.string(),
  ts: z.number().int().nonnegative(),
  pods: z.array(desiredPod),
  /** The ConfigMaps the node's pods reference (env, envFrom, volumes); missing ones are absent. */
  configMaps: z.array(configData).optional(),
  /** The Secrets the node's pods reference: sent only to nodes running such pods; agents keep them in memory. */
  secrets: z.array(configData).optional(),
});
export type DesiredStateMessage = z.infer<typeof desiredStateMessage>;

export const podStatusMessage = z.object({
  ...envelope,
  uid: z.string(),
  name: z.string(),
  namespace: z.string(),
  /** The pod is gone from the node: every container has stopped after a delete. */
  removed: z.boolean().default(false),
  status: z.object({
    phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
    conditions: z.array(condition.extend({ lastProbeTime: z.string().nullable().optional() })).optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    hostIP: z.string().optional(),
    podIP: z.string().optional(),
    podIPs: z.array(z.object({ ip: z.string() })).optional(),
    startTime: z.string().optional(),
    containerStatuses: z.array(z.record(z.string(), z.unknown())).optional(),
    initContainerStatuses: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
});
export type PodStatusMessage = z.infer<typeof podStatusMessage>;

/** Something worth a core/v1 Event (Pulled, Started, Failed, BackOff, Killing...). */
export const eventMessage = z.object({
  ...envelope,
  involvedObject: z.object({
    kind: z.string(),
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    fieldPath: z.string().optional(),
  }),
  type: z.enum(['Normal', 'Warning']),
  reason: z.string().max(128),
  message: z.string().max(4096),
});
export type EventMessage = z.infer<typeof eventMessage>;

const usage = {
  /** CPU over the window: fuel consumed / fuel per second / window, in thousandths of a core. */
  cpuMillicores: z.number().nonnegative(),
  /** Linear memory of the guests, where the runtime knows it. */
  memoryBytes: z.number().int().nonnegative().optional(),
};

/** What the node's guests used over the last window (QoS 0, not retained; a lost one is replaced by the next). */
export const nodeMetricsMessage = z.object({
  ...envelope,
  /** The window the usage was measured over, ending at `ts`. */
  windowMs: z.number().int().positive(),
  /** The node as a whole: its guests' CPU, and the device's used memory. */
  usage: z.object(usage),
  pods: z.array(z.object({
    uid: z.string(),
    namespace: z.string(),
    name: z.string(),
    containers: z.array(z.object({ name: z.string(), ...usage })),
  })),
});
export type NodeMetricsMessage = z.infer<typeof nodeMetricsMessage>;

export const rpcRequestMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().min(1).max(64),
  /** Absolute deadline, ms since epoch; the agent drops requests past it. */
  deadline: z.number().int().nonnegative(),
  params: z.record(z.string(), z.unknown()),
  /** The caller's cpInstance: the agent answers on `rpc/res/{replyTo}` (the request topic does not say). */
  replyTo: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/).optional(),
});
export type RpcRequestMessage = z.infer<typeof rpcRequestMessage>;

export const rpcResponseMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  done: z.boolean(),
  data: z.unknown().optional(),
  error: z.object({ code: z.number().int(), message: z.string() }).optional(),
});
export type RpcResponseMessage = z.infer<typeof rpcResponseMessage>;

/** The control plane's presence (and Will). Retained. A new epoch makes agents republish status. */
export const cpPresenceMessage = z.object({
  v: z.literal(PROTOCOL_VERSION),
  online: z.boolean(),
  epoch: z.string(),
  /** Base URL of the component registry (HTTPS), when online. */
  registryUrl: z.string().optional(),
  /** PEM of the CA that signed the registry's certificate. Components are pinned by digest anyway. */
  caCert: z.string().optional(),
});
export type CpPresenceMessage = z.infer<typeof cpPresenceMessage>;

/** Largest payload either side accepts (bytes). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
