// Payload schemas of the node channel. One schema validates what the control plane and the agents
// receive; anything that fails is logged and dropped by the receiver, never trusted.
import * as v from 'valibot';
import { count, jsonRecord, text } from './schema-parts.js';
import { desiredIngress } from './desired-ingress.js';

export { jsonRecord } from './schema-parts.js';

export const PROTOCOL_VERSION = 1;

// Valibot, not zod: it is modular, so the agent loads only the schemas and actions used here
// (~1.3 MiB of RSS, where importing zod or zod/mini loads its whole core and locales, ~12.5 MiB;
// docs/benchmarks.md). Its semantics as used: `v.object` strips unknown keys, `v.looseObject` keeps
// them; a default stands for an absent key.

const envelope = {
  v: v.literal(PROTOCOL_VERSION),
  sessionId: text(1, 64),
  seq: count(),
  ts: count(), // ms since epoch, sender's clock
  /** The sending node, filled by the agent's channel; the control plane drops a payload whose node differs from the topic's. */
  node: v.optional(v.string()),
};

const stringMap = jsonRecord(v.string());
const condition = v.object({
  type: v.string(),
  status: v.picklist(['True', 'False', 'Unknown']),
  reason: v.optional(v.string()),
  message: v.optional(v.string()),
  lastTransitionTime: v.optional(v.string()),
  lastHeartbeatTime: v.optional(v.string()),
});

/** Birth (online: true) and Will / clean shutdown (online: false). Retained. */
export const presenceMessage = v.object({
  v: v.literal(PROTOCOL_VERSION),
  sessionId: text(1, 64),
  online: v.boolean(),
  ts: v.optional(count()),
  /** The sending node (see envelope.node). */
  node: v.optional(v.string()),
  bootId: v.optional(v.pipe(v.string(), v.maxLength(64))),
  agentVersion: v.optional(v.pipe(v.string(), v.maxLength(64))),
  arch: v.optional(v.pipe(v.string(), v.maxLength(32))),
  os: v.optional(v.pipe(v.string(), v.maxLength(32))),
});
export type PresenceMessage = v.InferOutput<typeof presenceMessage>;

/** A full node snapshot: sent after birth and whenever something in it changes. */
export const nodeStatusMessage = v.object({
  ...envelope,
  labels: stringMap,
  capacity: stringMap,
  allocatable: stringMap,
  conditions: v.array(condition),
  addresses: v.array(v.object({ type: v.string(), address: v.string() })),
  nodeInfo: stringMap,
  /** Generation of the desired state the agent has applied (0 = none yet). */
  observedGeneration: count(),
  /** The port of the node's tunnel on its InternalIP (Node status.daemonEndpoints.kubeletEndpoint.Port); absent: none. */
  tunnelPort: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535))),
  /** NodePort and LoadBalancer ports the node could not bind (port in use, EACCES); absent: none. */
  unservedPorts: v.optional(v.pipe(v.array(v.object({
    port: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535)),
    /** namespace/name of the Service that wanted it. */
    service: v.pipe(v.string(), v.maxLength(320)),
    /** The OS error code (EADDRINUSE, EACCES...). */
    code: v.pipe(v.string(), v.maxLength(64)),
  })), v.maxLength(256))),
  /** The Ingress ports the node serves on its InternalIP (decision 075); absent: none. */
  ingressPorts: v.optional(v.object({ http: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535))), https: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535))) })),
});
export type NodeStatusMessage = v.InferOutput<typeof nodeStatusMessage>;

/** RFC 3339 as the Lease schema's date-time takes it (the control plane writes it into the Lease unchecked). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export const leaseMessage = v.object({
  ...envelope,
  // RFC 3339 with microseconds, like Lease.spec.renewTime
  renewTime: v.pipe(v.string(), v.maxLength(40), v.regex(RFC3339), v.check((s) => !Number.isNaN(Date.parse(s)), 'Invalid date')),
  leaseDurationSeconds: v.pipe(v.number(), v.safeInteger(), v.gtValue(0), v.maxValue(2 ** 31 - 1)), // int32, as the Lease's
});
export type LeaseMessage = v.InferOutput<typeof leaseMessage>;

/**
 * Where an agent finds a container's component: by digest from the registry, or why not. `reason`
 * (ErrImagePull, ErrImageNeverPull, InvalidImageName) is the container's waiting reason; an older
 * agent ignores it and says ErrImagePull.
 */
export const imageResolution = v.union([
  v.object({ digest: v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/)), url: v.string() }),
  v.object({ error: v.string(), reason: v.optional(v.picklist(['ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName'])) }),
]);
export type ImageResolution = v.InferOutput<typeof imageResolution>;

/** One pod as the agent must run it: the whole Pod object (status excluded) plus resolved images. */
export const desiredPod = v.object({
  pod: v.looseObject({
    apiVersion: v.literal('v1'),
    kind: v.literal('Pod'),
    metadata: v.looseObject({ name: v.string(), namespace: v.string(), uid: v.string() }),
    spec: v.looseObject({ containers: v.pipe(v.array(v.looseObject({ name: v.string(), image: v.string() })), v.minLength(1)) }),
  }),
  podIP: v.optional(v.string()),
  /** image reference (as written in the spec) -> where to get it */
  images: jsonRecord(imageResolution),
  /**
   * The pod has ended for good (Succeeded or Failed): `pod` carries only its identity and container
   * names. The agent keeps what it has (logs, final status) and never starts it. Keeps a node's
   * desired state small however many finished pods (Jobs) it holds.
   */
  finished: v.optional(v.boolean()),
  /**
   * The pod's persistentVolumeClaim volumes whose claims are bound: pod volume name -> the
   * PersistentVolume and its directory on the node (hostPath/local path), or why it cannot be
   * mounted. A claim not bound yet is absent: the agent waits for it (the pod stays Pending).
   */
  persistentVolumes: v.optional(jsonRecord(v.object({ volumeName: v.string(), path: v.optional(v.string()), error: v.optional(v.string()) }))),
});
export type DesiredPod = v.InferOutput<typeof desiredPod>;

/** A ConfigMap or Secret a pod of the node references (Secret `data` values are base64, as in the API). */
export const configData = v.object({
  namespace: v.string(),
  name: v.string(),
  data: v.optional(jsonRecord(v.string()), () => ({})),
  /** ConfigMap binaryData (base64). */
  binaryData: v.optional(jsonRecord(v.string())),
});
export type ConfigData = v.InferOutput<typeof configData>;

const portNumber = () => v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535));

/**
 * A Service as the node's pod network needs it (agent/network/): its ClusterIP ('None': headless),
 * its ports, and the Ready endpoints of its Endpoints object (the addresses only: not-ready ones
 * never get traffic), each group with the endpoint ports (targetPorts resolved by the controller).
 */
export const desiredService = v.object({
  namespace: text(1, 253),
  name: text(1, 63),
  clusterIP: v.optional(text(1, 64)),
  /** type ExternalName: the name this one is an alias (CNAME) of; no ClusterIP, no endpoints. */
  externalName: v.optional(text(1, 253)),
  /** sessionAffinity ClientIP: a client pod keeps its endpoint for `affinitySeconds` of inactivity (default 10800). */
  sessionAffinity: v.optional(v.literal('ClientIP')),
  affinitySeconds: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(86_400))),
  ports: v.pipe(v.array(v.object({
    name: v.optional(text(1, 63)), port: portNumber(), protocol: v.optional(v.picklist(['TCP', 'UDP', 'SCTP'])),
    /** NodePort and LoadBalancer Services: every node serves this port on `<node-ip>:<nodePort>`. */
    nodePort: v.optional(portNumber()),
  })), v.maxLength(256)),
  /** externalTrafficPolicy Local: NodePort/LoadBalancer traffic goes only to this node's endpoints, the client address kept. */
  externalTrafficPolicy: v.optional(v.literal('Local')),
  /** A LoadBalancer Service that holds its ports on every node (the ServiceLB): nodes serve `<node-ip>:<port>` too. */
  loadBalancer: v.optional(v.literal(true)),
  /** A headless Service's endpoints with a hostname (a StatefulSet's pods): `<hostname>.<service>` resolves to `ip`. */
  hosts: v.optional(v.pipe(v.array(v.object({ hostname: text(1, 63), ip: text(1, 64) })), v.maxLength(10_000))),
  endpoints: v.pipe(v.array(v.object({
    ips: v.pipe(v.array(text(1, 64)), v.maxLength(10_000)),
    ports: v.pipe(v.array(v.object({ name: v.optional(text(1, 63)), port: portNumber(), protocol: v.optional(v.picklist(['TCP', 'UDP', 'SCTP'])) })), v.maxLength(256)),
  })), v.maxLength(1_000)),
});
export type DesiredService = v.InferOutput<typeof desiredService>;

/**
 * Another node of the cluster as this node's pod network sees it: the pods of `podCIDR` run there,
 * and its tunnel (agent/network/tunnel-*.ts) listens on `address:port` (mutual TLS with node
 * certificates). A peer whose tunnel is not known (port 0) is still listed: relay only.
 */
export const desiredPeer = v.object({
  node: text(1, 253),
  podCIDR: v.pipe(v.string(), v.regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\/\d{1,2}$/)),
  address: v.optional(text(1, 64)),
  port: v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(65535)),
});
export type DesiredPeer = v.InferOutput<typeof desiredPeer>;
const protocol = () => v.optional(v.picklist(['TCP', 'UDP', 'SCTP']));

/** A pod a NetworkPolicy selects or names as a peer: its IP, and its containers' ports the policies name. */
const policyPod = v.object({
  ip: text(1, 64),
  named: v.optional(v.pipe(v.array(v.object({ name: text(1, 15), port: portNumber(), protocol: protocol() })), v.maxLength(256))),
});

/**
 * One ingress or egress rule of a NetworkPolicy, compiled (control-plane/nodes/desired-policies.ts):
 * its peers resolved to pod IPs and CIDR blocks (`peers` absent: every peer, in and out of the
 * cluster), and its ports (absent: every port; `port` absent: every port of the protocol; `name`: a
 * named container port of the destination pod).
 */
const policyRule = v.object({
  peers: v.optional(v.object({
    pods: v.pipe(v.array(policyPod), v.maxLength(100_000)),
    blocks: v.pipe(v.array(v.object({ cidr: text(1, 64), except: v.optional(v.pipe(v.array(text(1, 64)), v.maxLength(256))) })), v.maxLength(256)),
  })),
  ports: v.optional(v.pipe(v.array(v.object({
    protocol: protocol(),
    port: v.optional(portNumber()),
    endPort: v.optional(portNumber()),
    name: v.optional(text(1, 15)),
  })), v.maxLength(256))),
});

/**
 * A NetworkPolicy as an agent enforces it: the pods of this node it selects, and its rules
 * (`ingress` absent: it does not restrict ingress; present and empty: it denies all ingress).
 */
export const desiredNetworkPolicy = v.object({
  namespace: text(1, 253),
  name: text(1, 253),
  pods: v.pipe(v.array(policyPod), v.maxLength(10_000)),
  ingress: v.optional(v.pipe(v.array(policyRule), v.maxLength(1_000))),
  egress: v.optional(v.pipe(v.array(policyRule), v.maxLength(1_000))),
});
export type DesiredNetworkPolicy = v.InferOutput<typeof desiredNetworkPolicy>;
export type DesiredPolicyRule = v.InferOutput<typeof policyRule>;
export type DesiredPolicyPod = v.InferOutput<typeof policyPod>;

/** The parts of a node's desired state that may travel on their own topics (decision 057). */
export const DESIRED_PARTS = ['services', 'peers', 'policies'] as const;
export type DesiredPartName = (typeof DESIRED_PARTS)[number];

/** The node's desired state: pods, config, volumes (and, from an older control plane, every part). Retained; agents apply only a newer generation. */
export const desiredStateMessage = v.object({
  v: v.literal(PROTOCOL_VERSION),
  node: v.string(),
  generation: count(),
  cpEpoch: v.string(),
  ts: count(),
  pods: v.array(desiredPod),
  /** The ConfigMaps the node's pods reference (env, envFrom, volumes); missing ones are absent. */
  configMaps: v.optional(v.array(configData)),
  /** The Secrets the node's pods reference: sent only to nodes running such pods; agents keep them in memory. */
  secrets: v.optional(v.array(configData)),
  /**
   * Node paths (under the local-path prefix, api/local-path.ts) of the PersistentVolumes this node
   * keeps. The agent removes its other local-path directories; absent (an older control plane):
   * it removes nothing.
   */
  localVolumes: v.optional(v.array(v.string())),
  /**
   * The cluster's Services with their Ready endpoints, for the node's pod network (ClusterIPs, DNS
   * names, service environment variables). Absent (an older control plane): no Services.
   */
  services: v.optional(v.pipe(v.array(desiredService), v.maxLength(10_000))),
  /** The other nodes with a pod CIDR, and where their tunnels listen. Absent: no traffic between nodes. */
  peers: v.optional(v.pipe(v.array(desiredPeer), v.maxLength(1_000))),
  /**
   * The NetworkPolicies that select pods of this node, compiled (peers as pod IPs and CIDRs), for
   * the agent to enforce ingress and egress. Absent (an older control plane): none.
   */
  networkPolicies: v.optional(v.pipe(v.array(desiredNetworkPolicy), v.maxLength(10_000))),
  /**
   * The pod network (the control plane's --cluster-cidr): addresses in it are pods, never outside
   * the cluster. Absent (an older control plane): 10.42.0.0/16. An agent ignores one it cannot read.
   */
  clusterCidr: v.optional(text(1, 64)),
  /**
   * The parts of the node's desired state that travel on their own retained topics (decision 057):
   * their fields are absent here and an agent keeps what those topics gave it. Absent (an older
   * control plane): every part is in this message, an absent field meaning none.
   */
  parts: v.optional(v.pipe(v.array(v.picklist(DESIRED_PARTS)), v.maxLength(DESIRED_PARTS.length))),
  /** skiff's Ingresses (and their TLS certificates), for a node that serves Ingress (decision 075); absent: none. */
  ingress: v.optional(desiredIngress),
});
export type DesiredStateMessage = v.InferOutput<typeof desiredStateMessage>;


export const podStatusMessage = v.object({
  ...envelope,
  uid: v.string(),
  name: v.string(),
  namespace: v.string(),
  /** The pod is gone from the node: every container has stopped after a delete. */
  removed: v.optional(v.boolean(), false),
  status: v.object({
    phase: v.picklist(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
    conditions: v.optional(v.array(v.object({ ...condition.entries, lastProbeTime: v.optional(v.nullable(v.string())) }))),
    message: v.optional(v.string()),
    reason: v.optional(v.string()),
    hostIP: v.optional(v.string()),
    podIP: v.optional(v.string()),
    podIPs: v.optional(v.array(v.object({ ip: v.string() }))),
    startTime: v.optional(v.string()),
    containerStatuses: v.optional(v.array(jsonRecord(v.unknown()))),
    initContainerStatuses: v.optional(v.array(jsonRecord(v.unknown()))),
  }),
});
export type PodStatusMessage = v.InferOutput<typeof podStatusMessage>;

/** Something worth a core/v1 Event (Pulled, Started, Failed, BackOff, Killing...). */
export const eventMessage = v.object({
  ...envelope,
  involvedObject: v.object({
    kind: v.string(),
    name: v.string(),
    namespace: v.optional(v.string()),
    uid: v.optional(v.string()),
    fieldPath: v.optional(v.string()),
  }),
  type: v.picklist(['Normal', 'Warning']),
  reason: v.pipe(v.string(), v.maxLength(128)),
  message: v.pipe(v.string(), v.maxLength(4096)),
});
export type EventMessage = v.InferOutput<typeof eventMessage>;

const usage = {
  /** CPU over the window: fuel consumed / fuel per second / window, in thousandths of a core. */
  cpuMillicores: v.pipe(v.number(), v.finite(), v.minValue(0)),
  /** Linear memory of the guests, where the runtime knows it. */
  memoryBytes: v.optional(count()),
};

/** What the node's guests used over the last window (QoS 0, not retained; a lost one is replaced by the next). */
export const nodeMetricsMessage = v.object({
  ...envelope,
  /** The window the usage was measured over, ending at `ts`. */
  windowMs: v.pipe(v.number(), v.safeInteger(), v.gtValue(0)),
  /** The node as a whole: its guests' CPU, and the device's used memory. */
  usage: v.object(usage),
  pods: v.array(v.object({
    uid: v.string(),
    namespace: v.string(),
    name: v.string(),
    containers: v.array(v.object({ name: v.string(), ...usage })),
  })),
});
export type NodeMetricsMessage = v.InferOutput<typeof nodeMetricsMessage>;

export const rpcRequestMessage = v.object({
  v: v.literal(PROTOCOL_VERSION),
  id: text(1, 64),
  /** Absolute deadline, ms since epoch; the agent drops requests past it. */
  deadline: count(),
  params: jsonRecord(v.unknown()),
  /** The caller's cpInstance: the agent answers on `rpc/res/{replyTo}` (the request topic does not say). */
  replyTo: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,253}$/))),
});
export type RpcRequestMessage = v.InferOutput<typeof rpcRequestMessage>;

/**
 * Method `input`: streaming input for a call in progress (stdin, port-forward bytes), sent by the
 * control plane instance that made the call, numbered from 0 so the agent applies it in order.
 */
export const RPC_INPUT_METHOD = 'input';
export const rpcInputParams = v.object({
  call: text(1, 64),
  seq: count(),
  data: v.unknown(),
  /** The caller gave up (client gone): the agent aborts the call at once, whatever its seq. */
  cancel: v.optional(v.boolean()),
});
export type RpcInputParams = v.InferOutput<typeof rpcInputParams>;

export const rpcResponseMessage = v.object({
  v: v.literal(PROTOCOL_VERSION),
  id: text(1, 64),
  seq: count(),
  done: v.boolean(),
  data: v.optional(v.unknown()),
  error: v.optional(v.object({ code: v.pipe(v.number(), v.safeInteger()), message: v.string() })),
});
export type RpcResponseMessage = v.InferOutput<typeof rpcResponseMessage>;

/** The control plane's presence (and Will). Retained. A new epoch makes agents republish status. */
export const cpPresenceMessage = v.object({
  v: v.literal(PROTOCOL_VERSION),
  online: v.boolean(),
  epoch: v.string(),
  /** Base URL of the component registry (HTTPS), when online. */
  registryUrl: v.optional(v.string()),
  /** PEM of the CA that signed the registry's certificate. Components are pinned by digest anyway. */
  caCert: v.optional(v.string()),
});
export type CpPresenceMessage = v.InferOutput<typeof cpPresenceMessage>;

/** Largest payload either side accepts (bytes). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
