// What a guest's worker and the runtime say to each other over a run's network port (one
// MessageChannel per guest run): the guest's calls into the pod network and their answers.
import type { HttpRequest, HttpResponse, PodNetworkErrorCode } from '../pod-runtime.js';

/** An outgoing wasi:http request of the guest, to be carried within `timeoutMs`; or a name to resolve. */
export type NetCall =
  | { id: number; kind: 'http'; request: HttpRequest; timeoutMs: number }
  | { id: number; kind: 'resolve'; name: string };

/** Why a call failed: the wasi:http error-code the guest gets, and a line for logs. */
export interface NetFailure {
  code: PodNetworkErrorCode;
  message: string;
}

export type NetReply =
  | { id: number; response: HttpResponse }
  | { id: number; addresses: string[] }
  | { id: number; error: NetFailure };
