// wasi:sockets/ip-name-lookup in a real guest (the nslookup example, C) through WasmPodRuntime:
// names go to the pod network (PodNetworkPorts.resolve) over the blocking bridge; IP literals
// answer themselves; unknown names are name-unresolvable; without a network lookups fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIp } from '../../runtime/net/name-lookup.js';
import { PodNetworkError, type PodNetworkPorts } from '../../runtime/pod-runtime.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { startComponent } from './support/run-components.js';

describe('ip-name-lookup', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  const network: PodNetworkPorts = {
    listening: () => undefined,
    closed: () => undefined,
    resolve: async (name) => {
      if (name === 'web-svc') return ['10.96.0.10'];
      if (name === 'peers.db.svc.cluster.local') return ['10.42.0.5', '10.42.0.6'];
      if (name === 'six') return ['fd00::a:1'];
      throw new PodNetworkError('DNS-error', `lookup ${name}: no such host`);
    },
  };

  it('resolves names through the pod network and literals by themselves', async () => {
    const { container, stdout } = await startComponent(runtime, exampleBytes('nslookup'), 'nslookup', {
      network, args: ['nslookup', 'web-svc', 'peers.db.svc.cluster.local', 'six', '10.1.2.3', '::1', 'nope', 'bad name'],
    });
    const exit = await container.exited;
    expect(stdout()).toBe([
      'web-svc: 10.96.0.10',
      'peers.db.svc.cluster.local: 10.42.0.5 10.42.0.6',
      'six: fd00:0:0:0:0:0:a:1',
      '10.1.2.3: 10.1.2.3',
      '::1: 0:0:0:0:0:0:0:1',
      'nope: name-unresolvable',
      'bad name: invalid-argument',
      '',
    ].join('\n'));
    expect(exit.exitCode).toBe(1);
  }, 60_000);

  it('fails every lookup of a name without a pod network', async () => {
    const { container, stdout } = await startComponent(runtime, exampleBytes('nslookup'), 'nslookup', { args: ['nslookup', 'web-svc', '127.0.0.1'] });
    await container.exited;
    expect(stdout()).toBe('web-svc: permanent-resolver-failure\n127.0.0.1: 127.0.0.1\n');
  }, 60_000);

  it('parses IP literals as wasi:sockets addresses', () => {
    expect(parseIp('10.0.0.1')).toEqual({ tag: 'ipv4', val: [10, 0, 0, 1] });
    expect(parseIp('::')).toEqual({ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 0] });
    expect(parseIp('fd00::1')).toEqual({ tag: 'ipv6', val: [0xfd00, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseIp('::ffff:10.0.0.1')).toEqual({ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001] });
    expect(parseIp('1:2:3:4:5:6:7:8')).toEqual({ tag: 'ipv6', val: [1, 2, 3, 4, 5, 6, 7, 8] });
    expect(parseIp('web-svc')).toBeUndefined();
    expect(parseIp('300.1.1.1')).toBeUndefined();
  });
});
