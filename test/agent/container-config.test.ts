import { describe, expect, it } from 'vitest';
import { ContainerConfigError, containerArgv, containerEnv, containerLimits, handlerInstances } from '../../agent/pods/container-config.js';
import { hostileString, seededRandom } from '../support/seeded-random.js';
import type { Pod } from '../../api/types/pod.js';

const pod = (over: Partial<Pod['spec']['containers'][0]> = {}, annotations?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' }, ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'c', image: 'x', ...over }] },
});

describe('container config', () => {
  it('builds argv from command and args, defaulting argv[0] to the container name', () => {
    expect(containerArgv({ name: 'c', image: 'x', args: ['a', 'b'] })).toEqual(['c', 'a', 'b']);
    expect(containerArgv({ name: 'c', image: 'x', command: ['run', '-v'], args: ['a'] })).toEqual(['run', '-v', 'a']);
  });
  it('resolves env values, $(VAR) references and fieldRefs', () => {
    const p = pod({ env: [
      { name: 'A', value: 'one' },
      { name: 'B', value: '$(A)-two $$(A)' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ] });
    expect(containerEnv(p, p.spec.containers[0]!, { nodeName: 'n1', podIP: '10.42.1.2' })).toEqual([
      ['A', 'one'], ['B', 'one-two $(A)'], ['POD', 'p'], ['NODE', 'n1'], ['APP', 'web'],
    ]);
  });
  it('refuses sources it cannot serve with a configuration error', () => {
    const p = pod({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] });
    expect(() => containerEnv(p, p.spec.containers[0]!, { nodeName: 'n' })).toThrow(ContainerConfigError);
  });
  it('turns resource limits and the fuel annotation into runtime limits', () => {
    const p = pod({ resources: { limits: { memory: '64Mi', cpu: '250m' } } }, { 'skiff.dev/fuel-limit': '1000000' });
    expect(containerLimits(p, p.spec.containers[0]!)).toEqual({ memoryBytes: 64 * 2 ** 20, cpuMillis: 250, fuel: 1_000_000n });
    const bad = pod({}, { 'skiff.dev/fuel-limit': 'lots' });
    expect(() => containerLimits(bad, bad.spec.containers[0]!)).toThrow(/whole number/);
  });
  it('meters a container that requests cpu, without a quota, so its usage can be measured', () => {
    const requested = pod({ resources: { requests: { cpu: '100m' } } });
    expect(containerLimits(requested, requested.spec.containers[0]!)).toEqual({ measureCpu: true });
    const plain = pod({ resources: { requests: { memory: '16Mi' } } });
    expect(containerLimits(plain, plain.spec.containers[0]!)).toEqual({});
  });
  it('reads skiff.dev/handler-instances: fresh or reuse, anything else a configuration error (seeded fuzz)', () => {
    expect(handlerInstances(pod({}))).toBeUndefined();
    expect(handlerInstances(pod({}, { 'skiff.dev/handler-instances': 'fresh' }))).toBe('fresh');
    expect(handlerInstances(pod({}, { 'skiff.dev/handler-instances': 'reuse' }))).toBe('reuse');
    const next = seededRandom(53);
    for (let i = 0; i < 300; i++) {
      const value = i % 3 === 0 ? ['Fresh', 'reuse ', '', 'x'.repeat(100_000), '../fresh'][i % 5]! : hostileString(next);
      if (value === 'fresh' || value === 'reuse') continue;
      const bad = pod({}, { 'skiff.dev/handler-instances': value });
      expect(() => handlerInstances(bad)).toThrow(ContainerConfigError);
      try {
        handlerInstances(bad);
      } catch (error) {
        expect((error as Error).message.length).toBeLessThan(200); // a huge value is not echoed whole
      }
    }
  });
});
