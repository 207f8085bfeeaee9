// wasi:http with no network: the resource classes exist (so components importing wasi:http, like
// every componentize-js component, instantiate), and every outgoing request is denied.
import { WasiError } from './wasi-errors.js';

class Fields {}
class IncomingRequest {}
class OutgoingRequest {}
class RequestOptions {}
class ResponseOutparam {}
class IncomingResponse {}
class IncomingBody {}
class FutureTrailers {}
class OutgoingResponse {}
class OutgoingBody {}
class FutureIncomingResponse {}

export function createHttpImports() {
  return {
    'wasi:http/types': {
      Fields, IncomingRequest, OutgoingRequest, RequestOptions, ResponseOutparam, IncomingResponse,
      IncomingBody, FutureTrailers, OutgoingResponse, OutgoingBody, FutureIncomingResponse,
      httpErrorCode: () => undefined,
    },
    'wasi:http/outgoing-handler': {
      handle: (): never => {
        throw new WasiError({ tag: 'HTTP-request-denied' });
      },
    },
  };
}
