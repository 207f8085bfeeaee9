import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodePayload } from '../../api/mqtt/decode-payload.js';
import * as messages from '../../api/mqtt/messages.js';
import { nodeCredentialResponse } from '../../api/mqtt/node-credential.js';

// The node channel's payload schemas (valibot) accept, reject, strip and default exactly as the
// protocol needs (docs/mqtt-protocol.md). Decoding through the real decoders is in message-decoders.test.ts.
const envelope = { v: 1, sessionId: 's-1', seq: 3, ts: 1_700_000_000_000, node: 'n1' };
const condition = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' };
const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' }, deletionTimestamp: '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'main', image: 'hello:1', args: ['a'] }], restartPolicy: 'Always' },
  extra: { kept: true },
};
const digest = `sha256:${'a'.repeat(64)}`;
const samples = {
  presenceMessage: { v: 1, sessionId: 's-1', online: true, ts: 5, node: 'n1', bootId: 'b', agentVersion: '0.1.0', arch: 'arm64', os: 'linux' },
  nodeStatusMessage: {
    ...envelope, labels: { a: 'b' }, capacity: { cpu: '4' }, allocatable: { cpu: '4' }, conditions: [condition],
    addresses: [{ type: 'InternalIP', address: '10.0.0.2' }], nodeInfo: { architecture: 'arm64' }, observedGeneration: 2,
  },
  leaseMessage: { ...envelope, renewTime: '2026-01-01T00:00:00.000000Z', leaseDurationSeconds: 40 },
  desiredStateMessage: {
    v: 1, node: 'n1', generation: 7, cpEpoch: 'e1', ts: 9,
    pods: [
      { pod, podIP: '10.42.0.5', images: { 'hello:1': { digest, url: 'https://cp/blobs/a' }, 'bad:1': { error: 'not found' } }, finished: false },
      { pod, images: {}, persistentVolumes: { data: { volumeName: 'pv-1', path: '/var/lib/skiff/pv-1' }, logs: { volumeName: 'pv-2', error: 'lost' } } },
    ],
    configMaps: [{ namespace: 'default', name: 'cfg', data: { k: 'v' }, binaryData: { b: 'AA==' } }],
    secrets: [{ namespace: 'default', name: 's', data: { p: 'cw==' } }],
    localVolumes: ['/var/lib/skiff/pv-1'],
  },
  podStatusMessage: {
    ...envelope, uid: 'u1', name: 'web', namespace: 'default', removed: true,
    status: {
      phase: 'Running', conditions: [{ ...condition, lastProbeTime: null }], hostIP: '10.0.0.2', podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }],
      startTime: '2026-01-01T00:00:00Z', containerStatuses: [{ name: 'main', ready: true, state: { running: {} } }], initContainerStatuses: [],
    },
  },
  eventMessage: { ...envelope, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1', fieldPath: 'spec.containers{main}' }, type: 'Normal', reason: 'Started', message: 'started' },
  nodeMetricsMessage: { ...envelope, windowMs: 15_000, usage: { cpuMillicores: 12.5, memoryBytes: 1024 }, pods: [{ uid: 'u1', namespace: 'default', name: 'web', containers: [{ name: 'main', cpuMillicores: 3 }] }] },
  rpcRequestMessage: { v: 1, id: 'r1', deadline: 10, params: { container: 'main', follow: true }, replyTo: 'cp-1.a_b' },
  rpcResponseMessage: { v: 1, id: 'r1', seq: 0, done: true, data: { lines: ['x'] }, error: { code: 404, message: 'no such pod' } },
  cpPresenceMessage: { v: 1, online: true, epoch: 'e1', registryUrl: 'https://cp:6443', caCert: 'PEM' },
};
type Name = keyof typeof samples;
const schema = (name: Name) => messages[name] as v.GenericSchema;
const parse = (name: Name, input: unknown) => v.safeParse(schema(name), input);

/** `sample` with `path` set to `value` (removed when undefined). */
function withValue(sample: object, path: string, value: unknown): unknown {
  const copy = structuredClone(sample) as Record<string, unknown>;
  const keys = path.split('.');
  let parent = copy;
  for (const key of keys.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return copy;
}

describe('node channel payload schemas', () => {
  it('accept a valid message of every kind and return it unchanged', () => {
    for (const name of Object.keys(samples) as Name[]) {
      const result = parse(name, samples[name]);
      expect(result.success, name).toBe(true);
      expect(result.output, name).toStrictEqual(samples[name]);
    }
    expect(v.is(nodeCredentialResponse, { node: 'n1', credential: 'c'.repeat(16) })).toBe(true);
    expect(v.is(nodeCredentialResponse, { node: 'n1', credential: 'short' })).toBe(false);
  });

  it.each<[Name, string, unknown]>([
    ['presenceMessage', 'v', 2], ['presenceMessage', 'online', 'true'], ['presenceMessage', 'sessionId', ''], ['presenceMessage', 'sessionId', 'x'.repeat(65)],
    ['presenceMessage', 'arch', 'x'.repeat(33)], ['presenceMessage', 'sessionId', undefined],
    ['nodeStatusMessage', 'labels', ['a']], ['nodeStatusMessage', 'labels', { a: 1 }], ['nodeStatusMessage', 'conditions', [{ type: 'Ready', status: 'Maybe' }]],
    ['nodeStatusMessage', 'observedGeneration', -1], ['nodeStatusMessage', 'observedGeneration', 1.5], ['nodeStatusMessage', 'nodeInfo', undefined],
    ['leaseMessage', 'leaseDurationSeconds', 0], ['leaseMessage', 'seq', 2 ** 60], ['leaseMessage', 'ts', null], ['leaseMessage', 'renewTime', undefined],
    // written into the Lease without admission (decision 058): date-time and int32 as the Lease schema's
    ['leaseMessage', 'renewTime', 'yesterday'], ['leaseMessage', 'renewTime', '2026-13-45T99:99:99.000000Z'], ['leaseMessage', 'renewTime', `2026-01-01T00:00:00.${'0'.repeat(60)}Z`],
    ['leaseMessage', 'renewTime', '2026-01-01T00:00:00.000000Z\n'], ['leaseMessage', 'leaseDurationSeconds', 2 ** 31],
    ['desiredStateMessage', 'pods', {}], ['desiredStateMessage', 'generation', '7'], ['desiredStateMessage', 'cpEpoch', undefined],
    ['desiredStateMessage', 'pods.0.pod.kind', 'Deployment'], ['desiredStateMessage', 'pods.0.pod.spec.containers', []],
    ['desiredStateMessage', 'pods.0.pod.metadata.uid', undefined], ['desiredStateMessage', 'pods.0.images.hello:1', { digest: 'sha256:abc', url: 'u' }],
    ['desiredStateMessage', 'pods.0.images', []], ['desiredStateMessage', 'pods.1.persistentVolumes.data', { path: '/p' }],
    ['desiredStateMessage', 'configMaps', [{ name: 'cfg' }]], ['desiredStateMessage', 'secrets', [{ namespace: 'd', name: 's', data: ['x'] }]],
    ['podStatusMessage', 'status.phase', 'Sleeping'], ['podStatusMessage', 'status', undefined], ['podStatusMessage', 'removed', 'no'],
    ['podStatusMessage', 'status.containerStatuses', [['main']]], ['podStatusMessage', 'status.podIPs', [{}]],
    ['eventMessage', 'type', 'Error'], ['eventMessage', 'reason', 'x'.repeat(129)], ['eventMessage', 'involvedObject', { kind: 'Pod' }],
    ['nodeMetricsMessage', 'usage', { cpuMillicores: -1 }], ['nodeMetricsMessage', 'usage', { cpuMillicores: Infinity }], ['nodeMetricsMessage', 'usage', { cpuMillicores: NaN }],
    ['nodeMetricsMessage', 'windowMs', 0], ['nodeMetricsMessage', 'pods', [{ uid: 'u1', namespace: 'd', name: 'w', containers: [{ name: 'm', cpuMillicores: 1, memoryBytes: 0.5 }] }]],
    ['rpcRequestMessage', 'replyTo', 'a/b'], ['rpcRequestMessage', 'replyTo', ''], ['rpcRequestMessage', 'params', undefined], ['rpcRequestMessage', 'deadline', -5],
    ['rpcResponseMessage', 'error', { code: 1.5, message: 'x' }], ['rpcResponseMessage', 'done', undefined],
    ['cpPresenceMessage', 'epoch', 1], ['cpPresenceMessage', 'registryUrl', null],
  ])('reject %s with %s = %j (wrong type, out of range or missing)', (name, path, value) => {
    expect(parse(name, withValue(samples[name], path, value)).success).toBe(false);
  });

  it('reject a non-object payload', () => {
    for (const input of [null, 1, 'x', [], [samples.cpPresenceMessage]]) expect(parse('cpPresenceMessage', input).success).toBe(false);
  });

  it('strip unknown keys, except in the Pod, which is passed through whole', () => {
    const extra = { ...samples.cpPresenceMessage, future: 1 };
    expect(parse('cpPresenceMessage', extra).output).toStrictEqual(samples.cpPresenceMessage);
    const state = withValue(samples.desiredStateMessage, 'pods.0.images.hello:1', { digest, url: 'u', error: 'x', more: 1 }) as typeof samples.desiredStateMessage;
    (state.pods[0] as Record<string, unknown>)['unknownField'] = true;
    const parsed = v.parse(messages.desiredStateMessage, state);
    expect(parsed.pods[0]!.images['hello:1']).toStrictEqual({ digest, url: 'u' });
    expect(parsed.pods[0]).not.toHaveProperty('unknownField');
    expect(parsed.pods[0]!.pod).toStrictEqual(pod);
    expect(parsed.pods[0]!.pod.metadata['deletionTimestamp']).toBe('2026-01-01T00:00:00Z');
  });

  it('apply defaults for absent keys, a fresh object each time', () => {
    const status = withValue(samples.podStatusMessage, 'removed', undefined);
    expect(v.parse(messages.podStatusMessage, status).removed).toBe(false);
    const first = v.parse(messages.configData, { namespace: 'd', name: 'empty' });
    expect(first).toStrictEqual({ namespace: 'd', name: 'empty', data: {} });
    first.data['k'] = 'v';
    expect(v.parse(messages.configData, { namespace: 'd', name: 'empty' }).data).toStrictEqual({});
  });

  it('keep __proto__, constructor and prototype keys of records as plain keys, polluting nothing', () => {
    const labels = JSON.parse('{"a":"b","__proto__":"p","constructor":"c","prototype":"q","toString":"t"}') as Record<string, string>;
    const parsed = v.parse(messages.nodeStatusMessage, { ...samples.nodeStatusMessage, labels });
    expect(Object.keys(parsed.labels).sort()).toEqual(['__proto__', 'a', 'constructor', 'prototype', 'toString']);
    expect(Object.getPrototypeOf(parsed.labels)).toBe(Object.prototype);
    expect(parsed.labels['constructor']).toBe('c');
    expect(Object.getOwnPropertyDescriptor(parsed.labels, '__proto__')?.value).toBe('p');
    const config = JSON.parse('{"namespace":"d","name":"cm","data":{"constructor":"kept","prototype":7}}') as unknown;
    expect(v.safeParse(messages.configData, config).issues?.[0]?.message).toMatch(/Expected string but received 7/);
    const metadata = JSON.parse('{"name":"a","namespace":"d","uid":"u","__proto__":{"polluted":true}}') as object;
    const desired = v.parse(messages.desiredPod, { pod: { ...pod, metadata }, images: {} });
    expect(Object.getPrototypeOf(desired.pod.metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('say what failed first and where', () => {
    const payload = (value: unknown) => Buffer.from(JSON.stringify(value));
    const state = withValue(samples.desiredStateMessage, 'pods.1.podIP', 7);
    expect(decodePayload(messages.desiredStateMessage, payload(state))).toEqual({
      ok: false, reason: 'schema: Invalid type: Expected string but received 7 at pods.1.podIP',
    });
    const twice = withValue(withValue(samples.leaseMessage, 'seq', -1) as object, 'renewTime', undefined);
    expect(decodePayload(messages.leaseMessage, payload(twice))).toEqual({
      ok: false, reason: 'schema: Invalid value: Expected >=0 but received -1 at seq (and 1 more)',
    });
    expect(decodePayload(messages.cpPresenceMessage, Buffer.from('{'))).toEqual({ ok: false, reason: 'invalid JSON' });
    const image = (value: unknown) => decodePayload(messages.desiredStateMessage, payload(withValue(samples.desiredStateMessage, 'pods.0.images.hello:1', value)));
    expect(image({ digest: 'sha256:0', url: 'u' })).toEqual({
      ok: false, reason: 'schema: Invalid format: Expected /^sha256:[0-9a-f]{64}$/ but received "sha256:0" at pods.0.images.hello:1.digest',
    });
    // Neither option of the union fits: the union's issue, and the first option's own, under it.
    expect(image({ digest: 5 })).toEqual({
      ok: false,
      reason: 'schema: Invalid type: Expected Object but received Object at pods.0.images.hello:1 (first option: Invalid type: Expected string but received 5 at digest)',
    });
  });

  it('infer the message types: optional keys, defaults, passed-through index signatures', () => {
    expectTypeOf<messages.PodStatusMessage['removed']>().toEqualTypeOf<boolean>();
    expectTypeOf<messages.ConfigData>().toEqualTypeOf<{ namespace: string; name: string; data: Record<string, string>; binaryData?: Record<string, string> | undefined }>();
    expectTypeOf<messages.DesiredPod['pod']['metadata']>().toMatchTypeOf<{ name: string; [key: string]: unknown }>();
    expectTypeOf<messages.PresenceMessage['v']>().toEqualTypeOf<1>();
    expectTypeOf<messages.CpPresenceMessage>().toEqualTypeOf<{ v: 1; online: boolean; epoch: string; registryUrl?: string | undefined; caCert?: string | undefined }>();
  });
});
