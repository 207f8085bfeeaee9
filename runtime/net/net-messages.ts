// What a guest's worker and the runtime say to each other over a run's network port (one
// MessageChannel per guest run): the guest's calls into the pod network and their answers.
import type { HttpRequest, HttpResponse, PodNetworkErrorCode } from '../pod-runtime.js';

/** An outgoing wasi:http request of the guest, to be carried within `timeoutMs`. */
export interface NetCall {
  id: number;
  kind: 'http';
  request: HttpRequest;
  timeoutMs: number;
}

/** Why a call failed: the wasi:http error-code the guest gets, and a line for logs. */
export interface NetFailure {
  code: PodNetworkErrorCode;
  message: string;
}

export type NetReply = { id: number; response: HttpResponse } | { id: number; error: NetFailure };
