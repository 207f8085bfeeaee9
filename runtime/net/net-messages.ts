// What a guest's worker and the runtime say to each other over a run's network port (one
// MessageChannel per guest run): the guest's calls into the pod network and their answers, and
// the connections the runtime hands to the guest's listeners.
import type { HttpRequest, HttpResponse, PodNetworkErrorCode } from '../pod-runtime.js';
import type { StreamEnd } from './byte-ring.js';
import type { UdpCall } from './udp-messages.js';

/**
 * An outgoing wasi:http request of the guest, to be carried within `timeoutMs`; a name to resolve;
 * or a TCP connection to open to an IP address (text) and port.
 */
export type NetCall =
  | { id: number; kind: 'http'; request: HttpRequest; timeoutMs: number }
  | { id: number; kind: 'resolve'; name: string }
  | { id: number; kind: 'connect'; host: string; port: number; localPort: number }
  | UdpCall;

/** Why a call failed: the wasi:http error-code the guest gets, and a line for logs. */
export interface NetFailure {
  code: PodNetworkErrorCode;
  message: string;
}

export type NetReply =
  | { id: number; response: HttpResponse }
  | { id: number; addresses: string[] }
  | { id: number; stream: StreamEnd }
  | { id: number; bound: number }
  | { id: number; sent: true }
  | { id: number; error: NetFailure };

/** A connection to the guest's listener on `port` (no call of the guest asked for it). */
export interface NetIncoming {
  kind: 'incoming';
  port: number;
  stream: StreamEnd;
}
