// The client side of wasi:http as a guest's bindings call it, over a fake pod network: when the
// request goes (at handle(), or once a body written after handle() is finished), what the network
// gets, the response the guest reads, error-codes, timeouts from request-options.
import { describe, expect, it } from 'vitest';
import type { GuestNet } from '../../runtime/net/guest-net.js';
import type { NetFailure } from '../../runtime/net/net-messages.js';
import type { HttpRequest, HttpResponse } from '../../runtime/pod-runtime.js';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { createHttpImports } from '../../runtime/wasi/http.js';
import { Fields } from '../../runtime/wasi/http-fields.js';
import { DEFAULT_OUTGOING_TIMEOUT_MS } from '../../runtime/wasi/http-outgoing.js';
import type { InputStream, OutputStream } from '../../runtime/wasi/io.js';
import { WasiError } from '../../runtime/wasi/wasi-errors.js';

const control: GuestControl = { checkStop: () => undefined, sleepUntil: () => undefined };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

interface Req {
  setMethod(m: { tag: string; val?: string }): void;
  setAuthority(a: string | undefined): void;
  setPathWithQuery(p: string | undefined): void;
  setScheme(s: { tag: string; val?: string } | undefined): void;
  body(): { write(): OutputStream };
}
interface Options {
  setConnectTimeout(d: bigint | undefined): void;
  setFirstByteTimeout(d: bigint | undefined): void;
}
interface Future {
  subscribe(): unknown;
  get(): { tag: string; val: { tag: string; val: unknown } | undefined } | undefined;
}
interface Response {
  status(): number;
  headers(): Fields;
  consume(): { stream(): InputStream };
}

function setup(answer: (request: HttpRequest, timeoutMs: number) => HttpResponse | NetFailure) {
  const calls: Array<{ request: HttpRequest; timeoutMs: number }> = [];
  const net: Pick<GuestNet, 'httpRequest' | 'resolve'> = {
    httpRequest: (request, timeoutMs) => {
      calls.push({ request, timeoutMs });
      return answer(request, timeoutMs);
    },
    resolve: () => [],
  };
  const http = createHttpImports(control, net);
  const types = http['wasi:http/types'];
  const Request = types.OutgoingRequest as unknown as new (headers: Fields) => Req;
  const RequestOptions = types.RequestOptions as unknown as new () => Options;
  const OutgoingBody = types.OutgoingBody as unknown as { finish(body: unknown, trailers?: Fields): void };
  const handle = http['wasi:http/outgoing-handler'].handle as unknown as (r: Req, o: Options | undefined) => Future;
  return { calls, Request, RequestOptions, OutgoingBody, handle };
}

const ok = (body: string): HttpResponse => ({ status: 200, headers: [['content-type', 'text/plain'], ['x-served-by', 'web']], body: bytes(body) });

describe('wasi:http outgoing requests into the pod network', () => {
  it('sends a request without a body at handle() and gives back the response', () => {
    const { calls, Request, handle } = setup(() => ok('hello'));
    const request = new Request(Fields.fromList([['X-Trace', bytes('1')]]));
    request.setAuthority('web-svc');
    request.setPathWithQuery('/a?b=1');
    const future = handle(request, undefined);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request).toEqual({ method: 'GET', pathWithQuery: '/a?b=1', scheme: 'http', authority: 'web-svc', headers: [['x-trace', '1']], body: new Uint8Array() });
    expect(calls[0]!.timeoutMs).toBe(DEFAULT_OUTGOING_TIMEOUT_MS);
    future.subscribe();
    const result = future.get()!;
    expect(result.tag).toBe('ok');
    expect(result.val!.tag).toBe('ok');
    const response = result.val!.val as Response;
    expect(response.status()).toBe(200);
    expect(text(response.headers().get('x-served-by')[0]!)).toBe('web');
    expect(text(response.consume().stream().read(100n))).toBe('hello');
    expect(future.get()).toEqual({ tag: 'err', val: undefined }); // taken once
  });

  it('waits for a body written after handle() to be finished', () => {
    const { calls, Request, OutgoingBody, handle } = setup((request) => ok(`got ${text(request.body)}`));
    const request = new Request(new Fields());
    request.setMethod({ tag: 'post' });
    request.setAuthority('127.0.0.1:8080');
    const body = request.body();
    const future = handle(request, undefined);
    expect(calls).toHaveLength(0);
    const stream = body.write();
    stream.write(bytes('ping'));
    OutgoingBody.finish(body);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request.method).toBe('POST');
    const response = future.get()!.val!.val as Response;
    expect(text(response.consume().stream().read(100n))).toBe('got ping');
  });

  it('turns network failures and bad requests into error-codes', () => {
    const { Request, handle } = setup(() => ({ code: 'connection-refused', message: 'nothing listens' }));
    const request = new Request(new Fields());
    request.setAuthority('10.42.0.9:81');
    expect(handle(request, undefined).get()).toEqual({ tag: 'ok', val: { tag: 'err', val: { tag: 'connection-refused' } } });
    const dns = setup(() => ({ code: 'DNS-error', message: 'no such host' }));
    const named = new dns.Request(new Fields());
    named.setAuthority('nope');
    expect(dns.handle(named, undefined).get()!.val).toEqual({ tag: 'err', val: { tag: 'DNS-error', val: { rcode: 'NXDOMAIN', infoCode: undefined } } });
    const noAuthority = new Request(new Fields());
    expect(handle(noAuthority, undefined).get()!.val).toEqual({ tag: 'err', val: { tag: 'HTTP-request-URI-invalid' } });
    const badMethod = new Request(new Fields());
    badMethod.setAuthority('x');
    badMethod.setMethod({ tag: 'other', val: 'GET /evil' });
    expect(handle(badMethod, undefined).get()!.val).toEqual({ tag: 'err', val: { tag: 'HTTP-request-method-invalid' } });
  });

  it('takes the timeout from request-options', () => {
    const { calls, Request, RequestOptions, handle } = setup(() => ({ code: 'HTTP-response-timeout', message: 'late' }));
    const options = new RequestOptions();
    options.setConnectTimeout(200_000_000n);
    options.setFirstByteTimeout(300_000_000n);
    const request = new Request(new Fields());
    request.setAuthority('x');
    expect(handle(request, options).get()!.val).toEqual({ tag: 'err', val: { tag: 'HTTP-response-timeout' } });
    expect(calls[0]!.timeoutMs).toBe(500);
  });

  it('denies every request without a network', () => {
    const http = createHttpImports(control);
    const Request = http['wasi:http/types'].OutgoingRequest as unknown as new (headers: Fields) => Req;
    try {
      http['wasi:http/outgoing-handler'].handle(new Request(new Fields()) as never, undefined);
      expect.unreachable();
    } catch (error) {
      expect((error as WasiError).payload).toEqual({ tag: 'HTTP-request-denied' });
    }
  });
});
