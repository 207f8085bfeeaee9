// The relay between agents through the control plane, for a node that cannot reach another's tunnel
// (edge NAT): agent A POSTs a pod request to `relayPath(nodeB)` on the API server with its node
// credential; the control plane sends it to node B as a `relay` call over the node channel; B hands
// it to its pod (ingress policies checked, as for the tunnel) and the answer comes back the same way.
// Bodies travel base64 in JSON and in one MQTT message each way, hence MAX_RELAY_BODY_BYTES.
import * as v from 'valibot';

export const relayPath = (node: string) => `/skiff/v1/relay/${encodeURIComponent(node)}`;

/** Largest request or response body the relay carries (its base64 fits an MQTT message). */
export const MAX_RELAY_BODY_BYTES = 128 * 1024;
/** Longest timeout a relayed request may ask for. */
export const MAX_RELAY_TIMEOUT_MS = 300_000;

const ipv4 = v.pipe(v.string(), v.maxLength(15), v.regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/));
const headers = v.pipe(v.array(v.tuple([v.pipe(v.string(), v.minLength(1), v.maxLength(256)), v.pipe(v.string(), v.maxLength(8192))])), v.maxLength(256));
const base64 = v.pipe(v.string(), v.maxLength(Math.ceil(MAX_RELAY_BODY_BYTES / 3) * 4), v.regex(/^[A-Za-z0-9+/]*={0,2}$/));

/** What agent A sends (and the control plane passes on, with `from`: the calling node). */
export const relayRequest = v.object({
  podIP: ipv4,
  port: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535)),
  sourceIP: v.optional(ipv4),
  timeoutMs: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(MAX_RELAY_TIMEOUT_MS)),
  request: v.object({
    method: v.pipe(v.string(), v.regex(/^[A-Za-z!#$%&'*+.^_`|~0-9-]{1,32}$/)),
    pathWithQuery: v.pipe(v.string(), v.startsWith('/'), v.maxLength(8192)),
    scheme: v.picklist(['http', 'https']),
    authority: v.pipe(v.string(), v.maxLength(1024)),
    headers,
    body: base64,
  }),
});
export type RelayRequest = v.InferOutput<typeof relayRequest>;

export const relayResult = v.union([
  v.object({ response: v.object({ status: v.pipe(v.number(), v.safeInteger(), v.minValue(100), v.maxValue(999)), headers, body: base64 }) }),
  v.object({ error: v.object({ code: v.pipe(v.string(), v.maxLength(64)), message: v.pipe(v.string(), v.maxLength(2000)) }) }),
]);
export type RelayResult = v.InferOutput<typeof relayResult>;

// Raw TCP by relay (decision 038): agent A upgrades `POST relayStreamPath(nodeB)` (Upgrade:
// skiff-tcp, the tunnel's target and source headers) on the API server; the control plane opens a
// `tcp` call to node B over the node channel and answers 101 once B's pod took the connection, then
// carries A's frames (agent/network/framed-stream.ts) as the call's input and B's output chunks:
//   B -> control plane (data chunks): {open: true} first; {data: base64}; {ack: n} for n input bytes
//     its pod took; {fin: true}; the call's result {reset: true} or {} at the end, or before `open`
//     {error: {code, message}} (refused).
//   control plane -> B (input): {data: base64}; {ack: n} for n output bytes sent on to A; {fin: true}; {reset: true}.
// Each side sends at most RELAY_STREAM_WINDOW bytes the other has not acknowledged: backpressure
// end to end, whatever MQTT buffers.
export const relayStreamPath = (node: string) => `/skiff/v1/relay/${encodeURIComponent(node)}/tcp`;
/** Bytes in flight one way before the sender waits for an ack. */
export const RELAY_STREAM_WINDOW = 256 * 1024;
/** Largest data chunk in one message (before base64). */
export const RELAY_STREAM_CHUNK_BYTES = 32 * 1024;
/** How long a relayed TCP connection may last (the node channel call's deadline). */
export const RELAY_STREAM_MAX_MS = 24 * 3600_000;

const port = v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65535));
/** The `tcp` call's parameters (the control plane adds `from`: the calling node). */
export const relayStreamParams = v.object({
  podIP: ipv4,
  port,
  source: v.optional(v.object({ host: ipv4, port: v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(65535)) })),
  from: v.pipe(v.string(), v.maxLength(253)),
  listenerOnly: v.optional(v.boolean()),
});
export type RelayStreamParams = v.InferOutput<typeof relayStreamParams>;

const chunkData = v.pipe(v.string(), v.maxLength(Math.ceil(RELAY_STREAM_CHUNK_BYTES / 3) * 4), v.regex(/^[A-Za-z0-9+/]*={0,2}$/));
const ackBytes = v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(RELAY_STREAM_WINDOW));
/** One message of a relayed TCP connection, either way (input to B, data chunks from B). */
export const relayStreamMessage = v.union([
  v.object({ data: chunkData }),
  v.object({ ack: ackBytes }),
  v.object({ fin: v.literal(true) }),
  v.object({ reset: v.literal(true) }),
  v.object({ open: v.literal(true) }),
]);
export type RelayStreamMessage = v.InferOutput<typeof relayStreamMessage>;

// UDP by relay (decision 054, "By relay"): agent A upgrades `POST relayUdpPath(nodeB)` (Upgrade:
// skiff-udp) once per node B and sends datagram frames on it one way (agent/network/udp-frames.ts),
// as on the tunnel; the control plane checks every frame (source in A's pod CIDR, destination in
// B's), drops and counts the others, and passes the good ones on to B as the input of one `udp`
// call: {frames: base64} holds whole frames, concatenated. B answers {open: true} (a data chunk)
// at once: only then does the control plane answer 101. The call lasts RELAY_UDP_LINK_MS, then the
// link is closed and A opens a new one with its next datagram (a restarted B is found again).
export const relayUdpPath = (node: string) => `/skiff/v1/relay/${encodeURIComponent(node)}/udp`;
/** How long one UDP relay link (its `udp` call) lasts. */
export const RELAY_UDP_LINK_MS = 60_000;
/** How long B may take to take a UDP relay link. */
export const RELAY_UDP_OPEN_MS = 10_000;
/** Largest batch of frames in one input message of a `udp` call (before base64). */
export const RELAY_UDP_BATCH_BYTES = 96 * 1024;
/** The `udp` call's parameters: the calling node (the control plane sets it). */
export const relayUdpParams = v.object({ from: v.pipe(v.string(), v.minLength(1), v.maxLength(253)) });
/** One input message of a `udp` call. */
export const relayUdpMessage = v.object({
  frames: v.pipe(v.string(), v.maxLength(Math.ceil(RELAY_UDP_BATCH_BYTES / 3) * 4), v.regex(/^[A-Za-z0-9+/]*={0,2}$/)),
});
