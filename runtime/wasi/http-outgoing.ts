// The client side of wasi:http/types and wasi:http/outgoing-handler. A request goes into the pod
// network (net/guest-net.ts) once it is complete: at handle() when its body was never taken or is
// finished, else when the guest finishes the body or first waits on the response. The answer is
// buffered (the handler's response is complete before it is sent back), so the future is ready as
// soon as the request was carried. Without a pod network every request is denied
// (HTTP-request-denied). Failures reach the guest as the future's error-code, never as a hang:
// the runtime always answers within the request's timeout.
import type { GuestNet } from '../net/guest-net.js';
import type { HttpRequest, HttpResponse } from '../pod-runtime.js';
import type { GuestControl } from './guest-control.js';
import { Fields } from './http-fields.js';
import { IncomingBody, OutgoingBody } from './http-incoming.js';
import { BytesSource, InputStream, Pollable } from './io.js';
import { WasiError } from './wasi-errors.js';

type Method = { tag: string; val?: string };
type Scheme = { tag: string; val?: string };
type ErrorCode = { tag: string; val?: unknown };

const errUnit = () => new WasiError(undefined);

/** Timeout of a request whose options set none (the guest's own deadline may end it first). */
export const DEFAULT_OUTGOING_TIMEOUT_MS = 30_000;

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
    this.#body = new OutgoingBody(this.control, undefined, () => this.#onBodyFinished?.());
    return this.#body;
  }
  #onBodyFinished: (() => void) | undefined;

  /** Host side: what handle() sends, once the body (if taken) is finished; `whenFinished` otherwise. */
  static send(request: OutgoingRequest, whenFinished: () => void): { bodyPending: boolean } {
    const body = request.#body;
    if (body && !body.finished) {
      request.#onBodyFinished = whenFinished;
      return { bodyPending: true };
    }
    return { bodyPending: false };
  }

  /** Host side: the request as the pod network carries it, or the error-code for one it cannot. */
  static toHttpRequest(request: OutgoingRequest): HttpRequest | ErrorCode {
    const authority = request.#authority;
    if (!authority) return { tag: 'HTTP-request-URI-invalid' };
    const scheme = request.#scheme;
    if (scheme && scheme.tag === 'other') return { tag: 'HTTP-request-URI-invalid' };
    const method = request.#method.tag === 'other' ? request.#method.val ?? '' : request.#method.tag.toUpperCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) return { tag: 'HTTP-request-method-invalid' };
    const decoder = new TextDecoder();
    return {
      method,
      pathWithQuery: request.#pathWithQuery ?? '/',
      scheme: scheme?.tag === 'HTTPS' ? 'https' : 'http',
      authority,
      headers: request.#headers.entries().map(([name, value]): [string, string] => [name.toLowerCase(), decoder.decode(value)]),
      body: request.#body ? request.#body.bytes() : new Uint8Array(),
    };
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

  /** Host side: how long a request may take: connect + first byte when set, else the default. */
  static timeoutMs(options: RequestOptions | undefined): number {
    const parts = (options ? [options.#connect, options.#firstByte] : []).filter((d): d is bigint => d !== undefined);
    if (parts.length === 0) return DEFAULT_OUTGOING_TIMEOUT_MS;
    const ns = parts.reduce((a, b) => a + b, 0n);
    return Math.max(1, Math.min(Number(ns / 1_000_000n), 24 * 3600_000));
  }
}

/** The answer to an outgoing request: status, headers and the buffered body. */
export class IncomingResponse {
  #consumed = false;
  constructor(
    private readonly response: HttpResponse,
    private readonly control: GuestControl,
  ) {}
  status(): number {
    return this.response.status;
  }
  headers(): Fields {
    return Fields.fromHeaders(this.response.headers);
  }
  consume(): IncomingBody {
    if (this.#consumed) throw errUnit();
    this.#consumed = true;
    return new IncomingBody(new InputStream(new BytesSource(this.response.body), this.control), this.control);
  }
}

type Outcome = { tag: 'ok'; val: IncomingResponse } | { tag: 'err'; val: ErrorCode };

/** The response to come: sent when first waited on if the request's body was still open at handle(). */
export class FutureIncomingResponse {
  #outcome: Outcome | undefined;
  #taken = false;
  constructor(
    private readonly control: GuestControl,
    private readonly carry: () => Outcome,
  ) {}
  /** Host side: carries the request now (its body is complete). */
  settle(): void {
    this.#outcome ??= this.carry();
  }
  subscribe(): Pollable {
    this.settle();
    return new Pollable(this.control);
  }
  get(): unknown {
    if (this.#taken) return { tag: 'err', val: undefined };
    this.settle();
    this.#taken = true;
    return { tag: 'ok', val: this.#outcome };
  }
}

/** wasi:http/outgoing-handler for one guest instance: through `net`, or denied without one. */
export function createOutgoingHandler(control: GuestControl, net: Pick<GuestNet, 'httpRequest'> | undefined) {
  return {
    handle(request: OutgoingRequest, options: RequestOptions | undefined): FutureIncomingResponse {
      if (!net) throw new WasiError({ tag: 'HTTP-request-denied' });
      const timeoutMs = RequestOptions.timeoutMs(options);
      const carry = (): Outcome => {
        const http = OutgoingRequest.toHttpRequest(request);
        if (!('method' in http)) return { tag: 'err', val: http };
        const answer = net.httpRequest(http, timeoutMs);
        if ('status' in answer) return { tag: 'ok', val: new IncomingResponse(answer, control) };
        return { tag: 'err', val: errorCode(answer.code, answer.message) };
      };
      const future = new FutureIncomingResponse(control, carry);
      const { bodyPending } = OutgoingRequest.send(request, () => future.settle());
      if (!bodyPending) future.settle();
      return future;
    },
  };
}

function errorCode(code: string, message: string): ErrorCode {
  switch (code) {
    case 'DNS-error':
      return { tag: 'DNS-error', val: { rcode: 'NXDOMAIN', infoCode: undefined } };
    case 'internal-error':
      return { tag: 'internal-error', val: message };
    case 'HTTP-request-body-size':
      return { tag: 'HTTP-request-body-size', val: undefined };
    default:
      return { tag: code };
  }
}
