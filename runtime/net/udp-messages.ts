// UDP between a guest's worker and the runtime (decision 054): what goes over a run's network
// port, and the small shared counters of each bound socket. A datagram is one message (never a
// kernel socket): the sender's worker posts it to the main thread, the pod network routes it, the
// receiving run's relay posts it to the receiving worker and wakes it. Both directions are bounded
// by counters in shared memory, so neither a flooding sender nor a slow receiver grows a queue
// without limit: the receive queue of a socket holds at most `limit` bytes (what does not fit is
// dropped and counted, as UDP does), and a run has at most SEND_WINDOW_BYTES posted but not yet
// routed (check-send answers 0 until the runtime caught up).

export { MAX_DATAGRAM_IPV4 } from '../../api/net/udp-frames.js';
/** Largest payload of one datagram over ipv6 (65,535 - 8 bytes UDP header). */
export const MAX_DATAGRAM_IPV6 = 65_527;
/** A socket's receive queue unless the guest sets another (Linux' default rmem is 208 KiB). */
export const DEFAULT_RECEIVE_BYTES = 212_992;
/** The receive-buffer-size a guest may set: at least one largest datagram, at most 4 MiB. */
export const MIN_RECEIVE_BYTES = 65_536;
export const MAX_RECEIVE_BYTES = 4 << 20;
/** Bytes a run may have posted and not yet routed before check-send answers 0. */
export const SEND_WINDOW_BYTES = 1 << 20;
/** Datagrams check-send permits at once. */
export const SEND_BATCH = 64;

/** Indexes into a socket's counters (an Int32Array over a SharedArrayBuffer). */
export const UDP_QUEUED = 0; // bytes posted to the worker and not yet taken by the guest
export const UDP_DROPPED = 1; // datagrams dropped because the queue was full
export const UDP_LIMIT = 2; // the queue's bound in bytes (the socket's receive-buffer-size)
export const UDP_UNSENT = 3; // bytes the guest posted that the runtime has not routed yet
export const UDP_COUNTERS = 4;

export function createUdpCounters(limit = DEFAULT_RECEIVE_BYTES): Int32Array {
  const counters = new Int32Array(new SharedArrayBuffer(UDP_COUNTERS * 4));
  counters[UDP_LIMIT] = limit;
  return counters;
}

/** Where a datagram comes from: an IP literal and a port. */
export interface DatagramSource {
  host: string;
  port: number;
}

/** The guest's calls about UDP (on the run's network port, with the other NetCalls). */
export type UdpCall =
  /** Binds `port` (0: an ephemeral one) of the pod; answered with `{id, bound}` (-1: address-in-use) or an error. */
  | { id: number; kind: 'udp-bind'; port: number; counters: SharedArrayBuffer }
  /** The socket on `port` is gone (no answer). */
  | { id: number; kind: 'udp-unbind'; port: number }
  /** One datagram from `localPort`; `wait`: answer `{id, sent}` or the error (the first to an address). */
  | { id: number; kind: 'udp-send'; localPort: number; host: string; port: number; data: Uint8Array; wait: boolean };

/** A datagram for the guest's socket on `port` (no call of the guest asked for it). */
export interface DatagramMessage {
  kind: 'datagram';
  port: number;
  from: DatagramSource;
  data: Uint8Array;
}

export const isUdpCall = (call: { kind?: unknown } | null | undefined): call is UdpCall =>
  call?.kind === 'udp-bind' || call?.kind === 'udp-unbind' || call?.kind === 'udp-send';

/** Takes a datagram for a bound UDP port: false when it was dropped (the socket's queue is full, it is gone). */
export type DatagramReceiver = (from: DatagramSource, data: Uint8Array) => boolean;
