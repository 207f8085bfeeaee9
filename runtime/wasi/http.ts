// wasi:http for a guest instance: wasi:http/types (serving side in http-incoming.ts, fields in
// http-fields.ts, client side in http-outgoing.ts) and wasi:http/outgoing-handler, which carries
// requests into the pod network (denied without one). Resources the guest constructs itself get the instance's GuestControl through
// subclasses made here, per instance.
import type { GuestControl } from './guest-control.js';
import { Fields } from './http-fields.js';
import {
  FutureTrailers,
  IncomingBody,
  IncomingRequest,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from './http-incoming.js';
import type { GuestNet } from '../net/guest-net.js';
import { createOutgoingHandler, FutureIncomingResponse, IncomingResponse, OutgoingRequest, RequestOptions } from './http-outgoing.js';

export { HttpExchange } from './http-incoming.js';

export function createHttpImports(control: GuestControl, net?: Pick<GuestNet, 'httpRequest'>) {
  class GuestOutgoingResponse extends OutgoingResponse {
    constructor(headers: Fields) {
      super(headers, control);
    }
  }
  class GuestOutgoingRequest extends OutgoingRequest {
    constructor(headers: Fields) {
      super(headers, control);
    }
  }
  return {
    'wasi:http/types': {
      Fields,
      IncomingRequest,
      IncomingBody,
      FutureTrailers,
      OutgoingResponse: GuestOutgoingResponse,
      OutgoingBody,
      ResponseOutparam,
      OutgoingRequest: GuestOutgoingRequest,
      RequestOptions,
      IncomingResponse,
      FutureIncomingResponse,
      httpErrorCode: (): undefined => undefined,
    },
    'wasi:http/outgoing-handler': createOutgoingHandler(control, net),
  };
}
