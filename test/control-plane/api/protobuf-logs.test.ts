import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodLogOptions, PodLogSource } from '../../../control-plane/api/api-deps.js';
import { aPod } from '../support/test-resources.js';
import { openTestApi, type TestApi } from '../support/test-api.js';

/** Minimal protobuf writer for the test: length-delimited fields only. */
const field = (n: number, payload: Uint8Array | string): Uint8Array => {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const varint = (v: number) => { const out: number[] = []; while (v > 127) { out.push((v & 127) | 128); v >>>= 7; } out.push(v); return out; };
  return Uint8Array.from([...varint((n << 3) | 2), ...varint(bytes.length), ...bytes]);
};
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function protobufObject(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const unknown = concat(field(1, concat(field(1, apiVersion), field(2, kind))), field(2, raw));
  return concat(Uint8Array.from([0x6b, 0x38, 0x73, 0x00]), unknown);
}

let api: TestApi;
let lastOptions: PodLogOptions | undefined;
const logs: PodLogSource = {
  async stream(_pod, options, write, signal) {
    lastOptions = options;
    write('line 1\n');
    write('line 2\n');
    if (options.follow) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  },
};

beforeAll(async () => {
  api = await openTestApi({ podLogs: logs });
  await api.call('POST', '/api/v1/namespaces/default/pods', { body: aPod('web') });
  const two = aPod('two');
  two.spec.containers.push({ name: 'side', image: 'side:1' });
  await api.call('POST', '/api/v1/namespaces/default/pods', { body: two });
});
afterAll(async () => { await api.close(); });

const post = (path: string, body: Uint8Array) => api.app.request(path, {
  method: 'POST', body, headers: { authorization: 'Bearer test-token', 'content-type': 'application/vnd.kubernetes.protobuf' },
});

describe('protobuf requests', () => {
  it('creates a namespace sent as protobuf, as kubectl create namespace does', async () => {
    const labelEntry = concat(field(1, 'team'), field(2, 'edge'));
    const meta = concat(field(1, 'from-proto'), field(11, labelEntry));
    const res = await post('/api/v1/namespaces', protobufObject('v1', 'Namespace', field(1, meta)));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: 'Namespace', metadata: { name: 'from-proto', labels: { team: 'edge' } }, status: { phase: 'Active' } });
  });

  it('answers other protobuf kinds with 415 and a hint to send JSON', async () => {
    // kubectl never sends Endpoints as protobuf (Pods it does, for debug --copy-to: decoded since)
    const endpoints = await post('/api/v1/namespaces/default/endpoints', protobufObject('v1', 'Endpoints', field(1, field(1, 'x'))));
    expect(endpoints.status).toBe(415);
    expect(await endpoints.json()).toMatchObject({ reason: 'UnsupportedMediaType' });
  });
});

describe('pod logs', () => {
  it('streams text/plain from the log source with the query options', async () => {
    const res = await api.call('GET', '/api/v1/namespaces/default/pods/web/log?tailLines=10&timestamps=true');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('line 1\nline 2\n');
    expect(lastOptions).toEqual({ container: 'main', follow: false, tailLines: 10, timestamps: true, previous: false, sinceSeconds: undefined, limitBytes: undefined });
  });

  it('keeps a followed log open until the client goes away', async () => {
    const res = await api.call('GET', '/api/v1/namespaces/default/pods/web/log?follow=true');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('line 1');
    await reader.cancel();
  });

  it('requires a container name for a pod with several containers', async () => {
    const res = await api.call('GET', '/api/v1/namespaces/default/pods/two/log');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'a container name must be specified for pod two, choose one of: [main side]' });
    expect((await api.call('GET', '/api/v1/namespaces/default/pods/two/log?container=side')).status).toBe(200);
  });
});
