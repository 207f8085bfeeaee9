// The one endpoint choice of HTTP requests and raw TCP connects (service-endpoint.ts): Ready
// endpoints of the port, serving pods before terminating ones, reachable endpoints on other
// nodes, outside endpoints only where the caller carries them, headless ports, sessionAffinity
// ClientIP with an injected clock; hostile Services give PodNetworkError or an endpoint among the
// candidates, never anything else (seeded).
import { describe, expect, it } from 'vitest';
import type { DesiredPeer, DesiredService } from '../../../api/mqtt/messages.js';
import { chooseEndpoint, type EndpointRoutes } from '../../../agent/network/service-endpoint.js';
import { ServiceTable } from '../../../agent/network/service-table.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';

const svc = (ips: string[], extra: Partial<DesiredService> = {}): DesiredService =>
  ({ namespace: 'default', name: 'web', clusterIP: '10.43.0.10', ports: [{ port: 80 }], endpoints: [{ ips, ports: [{ port: 8080 }] }], ...extra });

function routes(local: Record<string, boolean>, remote: string[], options: { outside?: boolean } = {}): EndpointRoutes {
  const peer: DesiredPeer = { node: 'n2', podCIDR: '10.42.2.0/24' } as DesiredPeer;
  return {
    services: new ServiceTable(),
    pod: (ip) => (ip in local ? { terminating: () => local[ip]! } : undefined),
    remoteOwner: (ip) => (remote.includes(ip) ? peer : undefined),
    ...(options.outside ? { isPodAddress: (ip: string) => ip.startsWith('10.42.') } : {}),
  };
}

const fails = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return `${(error as PodNetworkError).code}: ${(error as Error).message}`;
  }
  return 'chosen';
};

describe('the choice of a Service endpoint', () => {
  it('balances over serving pods here and reachable pods elsewhere; terminating ones only when alone', () => {
    const r = routes({ '10.42.1.2': false, '10.42.1.3': true }, ['10.42.2.2']);
    const chosen = new Set([0, 1, 2, 3].map(() => chooseEndpoint(r, svc(['10.42.1.2', '10.42.1.3', '10.42.2.2', '10.42.3.9']), 80, '', 0).ip));
    expect([...chosen].sort()).toEqual(['10.42.1.2', '10.42.2.2']);
    expect(chooseEndpoint(r, svc(['10.42.1.3', '10.42.3.9']), 80, '', 0)).toEqual({ ip: '10.42.1.3', port: 8080 });
    expect(fails(() => chooseEndpoint(r, svc(['10.42.3.9']), 80, '', 0))).toBe('destination-unavailable: the ready endpoints of service default/web run on other nodes that cannot be reached');
    expect(fails(() => chooseEndpoint(r, svc([]), 80, '', 0))).toBe('connection-refused: service default/web has no ready endpoints');
    expect(fails(() => chooseEndpoint(r, svc(['10.42.1.2']), 81, '', 0))).toBe('connection-refused: service default/web has no port 81/TCP');
  });

  it('takes endpoints out of the pod network only where the caller carries them (HTTP), headless ones on the port asked', () => {
    expect(chooseEndpoint(routes({}, [], { outside: true }), svc(['192.0.2.1']), 80, '', 0)).toEqual({ ip: '192.0.2.1', port: 8080 });
    expect(fails(() => chooseEndpoint(routes({}, []), svc(['192.0.2.1']), 80, '', 0))).toMatch(/^destination-unavailable/);
    expect(chooseEndpoint(routes({ '10.42.1.2': false }, []), svc(['10.42.1.2'], { clusterIP: 'None' }), 9000, '', 0)).toEqual({ ip: '10.42.1.2', port: 9000 });
  });

  it('keeps a client on its endpoint with sessionAffinity ClientIP until the timeout', () => {
    const r = routes({ '10.42.1.2': false, '10.42.1.3': false }, []);
    const sticky = svc(['10.42.1.2', '10.42.1.3'], { sessionAffinity: 'ClientIP', affinitySeconds: 10 });
    const first = chooseEndpoint(r, sticky, 80, '10.42.1.9', 0).ip;
    for (let t = 1; t <= 5; t++) expect(chooseEndpoint(r, sticky, 80, '10.42.1.9', t * 1_000).ip).toBe(first);
    // two other clients move the round robin on: an expired client would take the next endpoint
    expect(chooseEndpoint(r, sticky, 80, '10.42.1.8', 5_000).ip).not.toBe(first);
    expect(chooseEndpoint(r, sticky, 80, '10.42.1.7', 5_000).ip).toBe(first);
    expect(chooseEndpoint(r, sticky, 80, '10.42.1.9', 15_000).ip).toBe(first); // 10 s after its last use: kept
    expect(chooseEndpoint(r, sticky, 80, '10.42.1.9', 25_001).ip).not.toBe(first); // more than 10 s idle: round robin
  });

  it('answers hostile Services with an endpoint among the candidates or a PodNetworkError (seeded)', () => {
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pickOf = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
    const ips = ['10.42.1.2', '10.42.2.2', '..', '', '::1', '10.42.1.2'.repeat(50), '192.0.2.1', 'NaN'];
    const ports = [0, -1, 80, 65536, Number.NaN, 1e308, 8080, 1.5];
    for (let i = 0; i < 2_000; i++) {
      const service = {
        namespace: 'default', name: 'x', clusterIP: pickOf(['10.43.0.1', 'None', '', undefined]),
        ports: Array.from({ length: Math.floor(rand() * 3) }, () => ({ port: pickOf(ports), ...(rand() < 0.3 ? { name: pickOf(['a', '', '..']) } : {}), ...(rand() < 0.2 ? { protocol: pickOf(['UDP', 'TCP']) } : {}) })),
        endpoints: Array.from({ length: Math.floor(rand() * 3) }, () => ({ ips: Array.from({ length: Math.floor(rand() * 4) }, () => pickOf(ips)), ports: [{ port: pickOf(ports), ...(rand() < 0.3 ? { name: 'a' } : {}) }] })),
        ...(rand() < 0.3 ? { sessionAffinity: 'ClientIP' as const, affinitySeconds: pickOf(ports) } : {}),
      } as DesiredService;
      const r = routes({ '10.42.1.2': rand() < 0.5 }, ['10.42.2.2'], { outside: rand() < 0.5 });
      const port = pickOf(ports);
      try {
        const endpoint = chooseEndpoint(r, service, port, pickOf(ips), rand() * 1e6);
        expect(service.endpoints.some((g) => g.ips.includes(endpoint.ip))).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(PodNetworkError);
      }
    }
  });
});
