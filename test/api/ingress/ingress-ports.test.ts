// The Node annotation that says which Ingress ports a node serves (decision 075): written from the
// node's status, read by the desired-state publisher and the Ingress controller. Malformed values
// count as none: a node that serves nothing gets neither Ingresses nor keys.
import { describe, expect, it } from 'vitest';
import { INGRESS_PORTS_ANNOTATION, ingressPortsAnnotation, ingressPortsOf } from '../../../api/ingress/ingress-ports.js';
import { hostileJson, hostileString, seededRandom } from '../../support/seeded-random.js';

const node = (value: string | undefined) => ({ metadata: { name: 'n', ...(value !== undefined ? { annotations: { [INGRESS_PORTS_ANNOTATION]: value } } : {}) } });

describe('Ingress ports on the Node', () => {
  it('round-trips the ports a node serves, and says nothing when it serves none', () => {
    expect(ingressPortsOf(node(ingressPortsAnnotation({ http: 80, https: 443 })))).toEqual({ http: 80, https: 443 });
    expect(ingressPortsOf(node(ingressPortsAnnotation({ https: 8443 })))).toEqual({ https: 8443 });
    expect(ingressPortsAnnotation(undefined)).toBeUndefined();
    expect(ingressPortsAnnotation({})).toBeUndefined();
    expect(ingressPortsOf(node(undefined))).toBeUndefined();
  });

  it('reads malformed or hostile values as none, or as their valid ports only (seeded fuzz)', () => {
    for (const bad of ['', 'null', '[]', '{"http":0}', '{"http":70000}', '{"http":"80"}', '{"https":1.5}', `{"http":80${' '.repeat(300)}}`]) {
      expect(ingressPortsOf(node(bad)), bad).toBeUndefined();
    }
    const next = seededRandom(1075);
    for (let i = 0; i < 500; i++) {
      const value = next() < 0.5 ? hostileString(next) : JSON.stringify(hostileJson(next));
      const ports = ingressPortsOf(node(value));
      if (ports === undefined) continue;
      for (const p of Object.values(ports)) expect(Number.isSafeInteger(p) && p >= 1 && p <= 65535).toBe(true);
      expect(Object.keys(ports).every((k) => k === 'http' || k === 'https')).toBe(true);
    }
  });
});
