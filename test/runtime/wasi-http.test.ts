// The wasi:http/types host as a guest's bindings call it: fields, the incoming request and its
// body stream, and the response collected through response-outparam.
import { describe, expect, it } from 'vitest';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { createHttpImports, HttpExchange } from '../../runtime/wasi/http.js';
import { Fields } from '../../runtime/wasi/http-fields.js';
import { InputStream, OutputStream } from '../../runtime/wasi/io.js';
import { WasiError } from '../../runtime/wasi/wasi-errors.js';
import { httpRequest, text } from './support/run-components.js';

const control: GuestControl = { checkStop: () => undefined, sleepUntil: () => undefined };
const bytes = (s: string) => new TextEncoder().encode(s);
const payloadOf = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    if (error instanceof WasiError) return error.payload;
    throw error;
  }
  return 'no error';
};

const types = createHttpImports(control)['wasi:http/types'];
type ResponseClass = new (headers: Fields) => {
  setStatusCode(status: number): void;
  body(): { write(): OutputStream };
  headers(): Fields;
};
const OutgoingResponse = types.OutgoingResponse as unknown as ResponseClass;
const OutgoingBody = types.OutgoingBody as unknown as { finish(body: unknown, trailers?: Fields): void };
const ResponseOutparam = types.ResponseOutparam as unknown as { set(param: unknown, response: unknown): void };

describe('wasi:http fields', () => {
  it('is a case-insensitive multimap keeping order and the given case', () => {
    const fields = Fields.fromList([['Content-Type', bytes('text/plain')], ['x-a', bytes('1')]]);
    fields.append('X-A', bytes('2'));
    expect(fields.get('x-a').map(text)).toEqual(['1', '2']);
    expect(fields.has('CONTENT-TYPE')).toBe(true);
    fields.set('x-a', [bytes('3')]);
    expect(fields.entries().map(([n, v]) => [n, text(v)])).toEqual([['Content-Type', 'text/plain'], ['x-a', '3']]);
    fields.delete('content-type');
    expect(fields.has('content-type')).toBe(false);
    expect(fields.get('missing')).toEqual([]);
  });

  it('rejects invalid names and values, forbidden headers, and writes to immutable fields', () => {
    const fields = new Fields();
    expect(payloadOf(() => fields.append('bad name', bytes('v')))).toEqual({ tag: 'invalid-syntax' });
    expect(payloadOf(() => fields.append('x', bytes('a\r\nInjected: 1')))).toEqual({ tag: 'invalid-syntax' });
    expect(payloadOf(() => fields.set('Connection', [bytes('close')]))).toEqual({ tag: 'forbidden' });
    const request = new HttpExchange(httpRequest('GET', '/'), control).request;
    const headers = request.headers();
    expect(text(headers.get('user-agent')[0]!)).toBe('kube-probe/1.30');
    expect(payloadOf(() => headers.append('x', bytes('y')))).toEqual({ tag: 'immutable' });
    const copy = headers.clone();
    copy.append('x', bytes('y'));
    expect(copy.has('x')).toBe(true);
  });
});

describe('wasi:http incoming request', () => {
  it('exposes method, path, scheme, authority, and the body once as a stream', () => {
    const exchange = new HttpExchange({ ...httpRequest('POST', '/items?id=1', 'hello body'), scheme: 'https' }, control);
    const request = exchange.request;
    expect(request.method()).toEqual({ tag: 'post' });
    expect(new HttpExchange(httpRequest('PROPFIND', '/'), control).request.method()).toEqual({ tag: 'other', val: 'PROPFIND' });
    expect(request.pathWithQuery()).toBe('/items?id=1');
    expect(request.scheme()).toEqual({ tag: 'HTTPS' });
    expect(request.authority()).toBe('127.0.0.1:8080');
    const body = request.consume();
    expect(payloadOf(() => request.consume())).toBeUndefined(); // err(()) the second time
    const stream: InputStream = body.stream();
    expect(payloadOf(() => body.stream())).toBeUndefined();
    expect(text(stream.read(5n))).toBe('hello');
    expect(text(stream.blockingRead(100n))).toBe(' body');
    expect(payloadOf(() => stream.read(1n))).toEqual({ tag: 'closed' });
    expect(stream.subscribe().ready()).toBe(true);
    const trailers = (types.IncomingBody as unknown as { finish(b: unknown): { get(): unknown } }).finish(body);
    expect(trailers.get()).toEqual({ tag: 'ok', val: { tag: 'ok', val: undefined } });
  });
});

describe('wasi:http response', () => {
  const respond = (status: number, chunks: string[], headers: Array<[string, string]> = [], finish = true) => {
    const exchange = new HttpExchange(httpRequest('GET', '/'), control);
    const response = new OutgoingResponse(Fields.fromList(headers.map(([n, v]) => [n, bytes(v)])));
    response.setStatusCode(status);
    const body = response.body();
    ResponseOutparam.set(exchange.outparam, { tag: 'ok', val: response });
    const stream = body.write();
    for (const chunk of chunks) stream.blockingWriteAndFlush(bytes(chunk));
    if (finish) OutgoingBody.finish(body);
    return { exchange, response, body, stream };
  };

  it('collects status, headers and the body written in chunks', () => {
    const { exchange, response, stream } = respond(201, ['hello, ', 'world'], [['x-served-by', 'test']]);
    expect(payloadOf(() => response.headers().append('x', bytes('y')))).toEqual({ tag: 'immutable' });
    expect(payloadOf(() => stream.write(bytes('late')))).toEqual({ tag: 'closed' });
    const result = exchange.response();
    expect(result).toMatchObject({ status: 201, headers: [['x-served-by', 'test']] });
    expect(text((result as { body: Uint8Array }).body)).toBe('hello, world');
  });

  it('says why there is no response', () => {
    expect(new HttpExchange(httpRequest('GET', '/'), control).response()).toMatch(/without setting a response/);
    expect(respond(200, ['partial'], [], false).exchange.response()).toMatch(/did not finish the response body/);
    const failed = new HttpExchange(httpRequest('GET', '/'), control);
    ResponseOutparam.set(failed.outparam, { tag: 'err', val: { tag: 'internal-error', val: 'boom' } });
    expect(failed.response()).toBe('the handler answered with error internal-error (boom)');
  });

  it('checks a declared content-length when the body is finished', () => {
    expect(() => respond(200, ['four'], [['content-length', '10']])).toThrow(WasiError);
    expect(payloadOf(() => respond(200, ['four'], [['content-length', '10']]))).toEqual({ tag: 'HTTP-response-body-size', val: 4n });
  });

  it('denies outgoing requests without a pod network', () => {
    const http = createHttpImports(control);
    const Request = http['wasi:http/types'].OutgoingRequest as unknown as new (headers: Fields) => never;
    expect(payloadOf(() => http['wasi:http/outgoing-handler'].handle(new Request(new Fields()), undefined))).toEqual({ tag: 'HTTP-request-denied' });
  });
});
