// The tunnel's connection pool name: the peer's address, never its TLS material (which https.Agent
// hashes into the name on every lookup), and never one constant (a node that moved must not be
// reached over a kept-alive connection to its old address).
import { describe, expect, it } from 'vitest';
import { NodeTunnelAgent } from '../../api/net/node-tunnel-agent.js';

describe('NodeTunnelAgent', () => {
  const agent = new NodeTunnelAgent({ keepAlive: true });
  const pem = '-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(2000) + '\n-----END CERTIFICATE-----\n';

  it('names the pool by host:port alone', () => {
    const name = agent.getName({ host: '10.0.0.7', port: 10250, cert: pem, key: pem, ca: pem, servername: '' } as never);
    expect(name).toBe('10.0.0.7:10250');
  });

  it('gives another address or port another pool', () => {
    const names = new Set([
      agent.getName({ host: '10.0.0.7', port: 10250 }),
      agent.getName({ host: '10.0.0.8', port: 10250 }),
      agent.getName({ host: '10.0.0.7', port: 10251 }),
    ]);
    expect(names.size).toBe(3);
  });
});
