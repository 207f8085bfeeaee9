// The client side of wasi:http/types. A guest may build an outgoing request (so code that prepares
// one runs), but wasi:http/outgoing-handler.handle denies every request: pods have no way out.
import type { GuestControl } from './guest-control.js';
import { Fields } from './http-fields.js';
import { OutgoingBody } from './http-incoming.js';
import { WasiError } from './wasi-errors.js';

type Method = { tag: string; val?: string };
type Scheme = { tag: string; val?: string };

const errUnit = () => new WasiError(undefined);

export class OutgoingRequest {
  #method: Method = { tag: 'get' };
  #pathWithQuery: string | undefined;
  #scheme: Scheme | undefined;
  #authority: string | undefined;
  #body: OutgoingBody | undefined;
  readonly #headers: Fields;
  /** The guest constructs it with headers only: http.ts binds `control` in a subclass. */
  constructor(
    headers: Fields,
    private readonly control: GuestControl,
  ) {
    this.#headers = Fields.lock(headers);
  }
  body(): OutgoingBody {
    if (this.#body) throw errUnit();
    this.#body = new OutgoingBody(this.control, undefined);
    return this.#body;
  }
  method(): Method {
    return this.#method;
  }
  setMethod(method: Method): void {
    this.#method = method;
  }
  pathWithQuery(): string | undefined {
    return this.#pathWithQuery;
  }
  setPathWithQuery(path: string | undefined): void {
    this.#pathWithQuery = path;
  }
  scheme(): Scheme | undefined {
    return this.#scheme;
  }
  setScheme(scheme: Scheme | undefined): void {
    this.#scheme = scheme;
  }
  authority(): string | undefined {
    return this.#authority;
  }
  setAuthority(authority: string | undefined): void {
    this.#authority = authority;
  }
  headers(): Fields {
    return Fields.lock(this.#headers.clone());
  }
}

export class RequestOptions {
  #connect: bigint | undefined;
  #firstByte: bigint | undefined;
  #betweenBytes: bigint | undefined;
  connectTimeout = (): bigint | undefined => this.#connect;
  setConnectTimeout = (d: bigint | undefined): void => void (this.#connect = d);
  firstByteTimeout = (): bigint | undefined => this.#firstByte;
  setFirstByteTimeout = (d: bigint | undefined): void => void (this.#firstByte = d);
  betweenBytesTimeout = (): bigint | undefined => this.#betweenBytes;
  setBetweenBytesTimeout = (d: bigint | undefined): void => void (this.#betweenBytes = d);
}

// Never handed out: no outgoing request is ever sent. They exist for the bindings' instanceof checks.
export class IncomingResponse {}
export class FutureIncomingResponse {}

export const outgoingHandler = {
  handle: (): never => {
    throw new WasiError({ tag: 'HTTP-request-denied' });
  },
};
