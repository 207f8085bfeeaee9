// Outgoing wasi:http requests of real guests (the http-fetch example, C) through WasmPodRuntime:
// the worker blocks on the run's network port while the runtime asks the pod network
// (PodNetworkPorts.httpRequest), here a table that hands requests to an http-health container.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpHandlerError, PodNetworkError, type HttpRequest, type HttpResponse, type PodNetworkPorts, type RunningContainer } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { httpRequest, startComponent, text } from './support/run-components.js';

describe('outgoing wasi:http requests into the pod network', () => {
  let runtime: WasmPodRuntime;
  let backend: RunningContainer;
  const seen: HttpRequest[] = [];
  const network = (route: (request: HttpRequest) => Promise<HttpResponse>): PodNetworkPorts => ({
    listening: () => undefined,
    closed: () => undefined,
    httpRequest: (request) => {
      seen.push(request);
      return route(request);
    },
  });

  beforeAll(async () => {
    runtime = new WasmPodRuntime({ warmWorkers: 2 });
    backend = (await startComponent(runtime, exampleBytes('http-health'), 'http-health')).container;
  }, 90_000);
  afterAll(async () => {
    await runtime.close();
  });

  it('carries a guest request to another handler and gives the guest its response', async () => {
    const toBackend = network((request) => backend.handleHttp!(request, 10_000));
    const { container, printed } = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', {
      network: toBackend,
      env: [['TARGET_URL', 'http://localhost:8080/hello'], ['APPEND_PATH', '']],
    });
    const response = await container.handleHttp!(httpRequest('GET', '/'), 20_000);
    expect(response.status).toBe(200);
    expect(text(response.body)).toBe('fetched http://localhost:8080/hello: 200 ok GET /hello\n\n');
    expect(seen.at(-1)).toMatchObject({ method: 'GET', authority: 'localhost:8080', pathWithQuery: '/hello', scheme: 'http' });
    await printed('GET / -> http://localhost:8080/hello 200');
    // the backend's status and body come through as they are
    const appending = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', {
      network: toBackend,
      env: [['TARGET_URL', 'http://web:8080'], ['APPEND_PATH', '1']],
    });
    const teapot = await appending.container.handleHttp!(httpRequest('GET', '/status/418'), 20_000);
    expect(text(teapot.body)).toBe('fetched http://web:8080/status/418: 418 status 418\n\n');
    await Promise.all([container.stop(0), appending.container.stop(0)]);
  }, 90_000);

  it('gives the guest the error-code of a failure, never a hang', async () => {
    const refusing = network(async () => {
      throw new PodNetworkError('connection-refused', 'nothing listens on 127.0.0.1:9');
    });
    const { container } = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', { network: refusing, env: [['TARGET_URL', 'http://127.0.0.1:9/']] });
    const refused = await container.handleHttp!(httpRequest('GET', '/'), 20_000);
    expect(refused.status).toBe(502);
    expect(text(refused.body)).toBe('fetched http://127.0.0.1:9/: failed: connection-refused\n');
    await container.stop(0);

    const unknown = network(async () => {
      throw new PodNetworkError('DNS-error', 'no such host');
    });
    const dns = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', { network: unknown, env: [['TARGET_URL', 'http://nope/']] });
    expect(text((await dns.container.handleHttp!(httpRequest('GET', '/'), 20_000)).body)).toBe('fetched http://nope/: failed: DNS-error\n');
    await dns.container.stop(0);

    const buggy = network(async () => {
      throw new Error('a bug in the network');
    });
    const internal = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', { network: buggy });
    expect(text((await internal.container.handleHttp!(httpRequest('GET', '/'), 20_000)).body)).toMatch(/failed: internal-error/);
    await internal.container.stop(0);
  }, 90_000);

  it('denies outgoing requests of a container without a pod network', async () => {
    const { container } = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch');
    const response = await container.handleHttp!(httpRequest('GET', '/'), 20_000);
    expect(text(response.body)).toBe('fetched http://localhost:8080/: failed: HTTP-request-denied\n');
    await container.stop(0);
  }, 60_000);

  it('ends a request whose guest waits on a network that never answers when the request times out', async () => {
    const silent = network(() => new Promise(() => undefined));
    const { container } = await startComponent(runtime, exampleBytes('http-fetch'), 'http-fetch', { network: silent });
    await expect(container.handleHttp!(httpRequest('GET', '/'), 1_000)).rejects.toBeInstanceOf(HttpHandlerError);
    const exit = await container.stop(5_000);
    expect(exit.reason).toBe('Completed');
  }, 60_000);
});
