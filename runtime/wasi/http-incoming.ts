// The serving side of wasi:http/types: the request given to a guest's incoming-handler and the
// response it builds (status, headers, a body written through an output-stream and finished), set
// through response-outparam. One HttpExchange per handler call collects the response.
import type { HttpRequest, HttpResponse } from '../pod-runtime.js';
import type { GuestControl } from './guest-control.js';
import { Fields } from './http-fields.js';
import { BytesSource, InputStream, IoError, OutputStream, Pollable, type ByteSink } from './io.js';
import { WasiError } from './wasi-errors.js';

/** Largest response body a handler may write; past it the write fails and the request errors. */
export const MAX_RESPONSE_BODY_BYTES = 16 * 1024 * 1024;

const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
const STANDARD_METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

type Method = { tag: string; val?: string };
type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string };
type ErrorCode = { tag: string; val?: unknown };
type ResponseResult = { tag: 'ok'; val: OutgoingResponse } | { tag: 'err'; val: ErrorCode };

const errUnit = () => new WasiError(undefined);

export class IncomingRequest {
  #consumed = false;
  /** Undefined once its handler call is over (a reused instance that kept the handle gets a trap). */
  #request: HttpRequest | undefined;
  #source: BytesSource | undefined;
  constructor(
    request: HttpRequest,
    private readonly control: GuestControl,
  ) {
    this.#request = request;
  }
  #current(): HttpRequest {
    if (!this.#request) throw new Error('the incoming-request of an earlier handler call was used');
    return this.#request;
  }
  method(): Method {
    const method = this.#current().method;
    const lower = method.toLowerCase();
    return STANDARD_METHODS.has(lower) ? { tag: lower } : { tag: 'other', val: method };
  }
  pathWithQuery(): string | undefined {
    return this.#current().pathWithQuery;
  }
  scheme(): Scheme {
    return this.#current().scheme === 'https' ? { tag: 'HTTPS' } : { tag: 'HTTP' };
  }
  authority(): string | undefined {
    return this.#current().authority;
  }
  headers(): Fields {
    return Fields.fromHeaders(this.#current().headers);
  }
  consume(): IncomingBody {
    const request = this.#current();
    if (this.#consumed) throw errUnit();
    this.#consumed = true;
    this.#source = new BytesSource(request.body);
    return new IncomingBody(new InputStream(this.#source, this.control), this.control);
  }
  /** The handler call is over: the request and its body bytes are let go, whatever handles the guest kept. */
  close(): void {
    this.#request = undefined;
    this.#source?.release();
  }
}

export class IncomingBody {
  #stream: InputStream | undefined;
  constructor(
    stream: InputStream,
    private readonly control: GuestControl,
  ) {
    this.#stream = stream;
  }
  stream(): InputStream {
    const stream = this.#stream;
    if (!stream) throw errUnit();
    this.#stream = undefined;
    return stream;
  }
  static finish(body: IncomingBody): FutureTrailers {
    return new FutureTrailers(body.control);
  }
}

/** Requests carry no trailers: the future is ready at once with none. */
export class FutureTrailers {
  #taken = false;
  constructor(private readonly control: GuestControl) {}
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
  get(): unknown {
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

class CollectingSink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  overflowed = false;
  write(bytes: Uint8Array): void {
    if (this.length + bytes.length > MAX_RESPONSE_BODY_BYTES) {
      this.overflowed = true;
      throw new WasiError({ tag: 'last-operation-failed', val: new IoError(`response body larger than ${MAX_RESPONSE_BODY_BYTES} bytes`) });
    }
    this.chunks.push(bytes.slice()); // a view into guest memory: copy
    this.length += bytes.length;
  }
}

export class OutgoingBody {
  readonly sink = new CollectingSink();
  #stream: OutputStream | undefined;
  #streamTaken = false;
  finished = false;
  constructor(
    control: GuestControl,
    private readonly contentLength: number | undefined,
    /** Told once the body is finished (an outgoing request's body: the request can go). */
    private readonly onFinish?: () => void,
  ) {
    this.#stream = new OutputStream(this.sink, control);
  }
  write(): OutputStream {
    if (this.#streamTaken || this.finished) throw errUnit();
    this.#streamTaken = true;
    return this.#stream!;
  }
  static finish(body: OutgoingBody, _trailers: Fields | undefined): void {
    if (body.finished) throw new WasiError({ tag: 'internal-error', val: 'the body was already finished' });
    body.#stream?.close();
    body.finished = true;
    const written = body.sink.length;
    if (body.contentLength !== undefined && body.contentLength !== written) {
      throw new WasiError({ tag: 'HTTP-response-body-size', val: BigInt(written) });
    }
    body.onFinish?.();
  }
  /** The bytes written, as one buffer of its own (it can be transferred to the main thread). */
  bytes(): Uint8Array {
    const body = new Uint8Array(this.sink.length);
    let offset = 0;
    for (const chunk of this.sink.chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    return body;
  }
  [DISPOSE](): void {
    this.#stream?.close();
  }
}

export class OutgoingResponse {
  #status = 200;
  #body: OutgoingBody | undefined;
  readonly #headers: Fields;
  /** The guest constructs it with headers only: http.ts binds `control` in a subclass. */
  constructor(
    headers: Fields,
    private readonly control: GuestControl,
  ) {
    this.#headers = Fields.lock(headers);
  }

  statusCode(): number {
    return this.#status;
  }
  setStatusCode(status: number): void {
    if (status < 100 || status > 999) throw errUnit();
    this.#status = status;
  }
  headers(): Fields {
    return Fields.lock(this.#headers.clone());
  }
  body(): OutgoingBody {
    if (this.#body) throw errUnit();
    const length = this.#headers.get('content-length')[0];
    const contentLength = length === undefined ? undefined : Number(new TextDecoder().decode(length));
    this.#body = new OutgoingBody(this.control, Number.isSafeInteger(contentLength) ? contentLength : undefined);
    return this.#body;
  }
  /** Host side: the response as it is now, or why it is not complete. */
  static complete(response: OutgoingResponse): HttpResponse | string {
    const body = response.#body;
    if (body && !body.finished) {
      return body.sink.overflowed ? `the response body is larger than ${MAX_RESPONSE_BODY_BYTES} bytes` : 'the handler did not finish the response body';
    }
    const decoder = new TextDecoder();
    const headers = response.#headers.entries().map(([name, value]): [string, string] => [name, decoder.decode(value)]);
    return { status: response.#status, headers, body: body ? body.bytes() : new Uint8Array() };
  }
}

export class ResponseOutparam {
  constructor(private readonly exchange: HttpExchange) {}
  static set(param: ResponseOutparam, response: ResponseResult): void {
    param.exchange.set(response);
  }
  sendInformational(): never {
    throw new WasiError({ tag: 'internal-error', val: 'informational responses are not supported' });
  }
}

/** One call of the guest's handler: the request it gets, and the response it sets. */
export class HttpExchange {
  readonly request: IncomingRequest;
  readonly outparam = new ResponseOutparam(this);
  #result: ResponseResult | undefined;

  constructor(request: HttpRequest, control: GuestControl) {
    this.request = new IncomingRequest(request, control);
  }

  #closed = false;

  set(result: ResponseResult): void {
    if (this.#closed) throw new Error('the response-outparam of an earlier handler call was used');
    if (this.#result) throw new Error('response-outparam.set called twice');
    this.#result = result;
  }

  /** After the handler returned: the response, or a one-line reason there is none. */
  response(): HttpResponse | string {
    const result = this.#result;
    if (!result) return 'the handler returned without setting a response';
    if (result.tag === 'err') return `the handler answered with error ${describeErrorCode(result.val)}`;
    return OutgoingResponse.complete(result.val);
  }

  /** The handler call is over (its response taken): nothing of it stays reachable from a reused instance. */
  close(): void {
    this.#closed = true;
    this.#result = undefined;
    this.request.close();
  }
}

function describeErrorCode(code: ErrorCode): string {
  if (code.val === undefined || code.val === null) return code.tag;
  const detail = typeof code.val === 'object' ? JSON.stringify(code.val, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : String(code.val);
  return `${code.tag} (${detail})`;
}
