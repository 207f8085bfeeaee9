// HTTP Upgrade through the Ingress gateway and through a NodePort, to a raw TCP guest that answers
// the handshake with 101 and then echoes bytes (wasm-examples/tcp-upgrade, standing in for a
// WebSocket server): the handshake's request line reaches the guest, the 101 comes back, and bytes
// flow both ways afterwards. Hostile Upgrade requests get an answer, never a crash; h2c offers are
// served as HTTP/1.1. Real control plane, agent, guest and kubectl.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints, Service } from '../../control-plane/resources/kinds/services.js';
import { hostileString, seededRandom } from '../support/seeded-random.js';
import { hasTool, TOOL_PATHS } from '../support/tools.js';
import { startCluster, waitFor, type Cluster } from './cluster-harness.js';

const run = promisify(execFile);
const NS = '/api/v1/namespaces/default';

/** Sends `head`, reads the answer's head; then sends `payload` and reads it back (when 101). */
function upgradeExchange(host: string, port: number, head: string, payload = ''): Promise<{ head: string; echoed: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    let answer: string | undefined;
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer: ${buffer.toString('latin1')}`)); }, 60_000);
    const done = () => { clearTimeout(timer); socket.destroy(); resolve({ head: answer ?? buffer.toString('latin1'), echoed: answer === undefined ? '' : buffer.toString('latin1') }); };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (answer === undefined) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        answer = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        if (!answer.startsWith('HTTP/1.1 101') || !payload) return void socket.end();
        socket.write(payload);
      }
      if (buffer.length >= payload.length) done();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', reject);
    socket.write(head);
  });
}

describe.skipIf(!hasTool('kubectl', 'Ingress upgrade e2e'))('HTTP Upgrade through the Ingress gateway and a NodePort', () => {
  let cluster: Cluster;
  let ingressPort: number;
  let nodePort: number;
  const kubectl = (args: string[]) => run(TOOL_PATHS.kubectl, args, { env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath }, timeout: 60_000 }).then((r) => r.stdout);

  beforeAll(async () => {
    cluster = await startCluster({ loopbackNodeIPs: true, ingress: { port: 0 } });
    ingressPort = cluster.cp.ingress!.httpPort;
    await cluster.cp.registry.push('examples/tcp-upgrade:latest', readFileSync('wasm-examples/tcp-upgrade/tcp-upgrade.wasm'));
    await kubectl(['create', 'deployment', 'ws', '--image', 'examples/tcp-upgrade:latest', '--port', '7000']);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ws' }, spec: { type: 'NodePort', selector: { app: 'ws' }, ports: [{ port: 80, targetPort: 7000 }] } };
    nodePort = (await cluster.client.request<Service>('POST', `${NS}/services`, svc)).body.spec.ports![0]!.nodePort!;
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ws' }, spec: { rules: [{ host: 'ws.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'ws', port: { number: 80 } } } }] } }] } };
    expect((await cluster.client.request('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', ingress)).status).toBe(201);
    await waitFor<Endpoints>(cluster.client, `${NS}/endpoints?fieldSelector=metadata.name%3Dws`, (e) => (e.object.subsets ?? []).some((s) => (s.addresses ?? []).length > 0), 180_000);
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const handshake = (path: string, host = 'ws.test') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

  it('carries the handshake and then bytes both ways through the Ingress', async () => {
    let result = await upgradeExchange('127.0.0.1', ingressPort, handshake('/chat?room=1'), 'hello through the ingress');
    for (let i = 0; i < 60 && !result.head.startsWith('HTTP/1.1 101'); i++) {
      await new Promise((r) => setTimeout(r, 500)); // the guest may still be starting its listener
      result = await upgradeExchange('127.0.0.1', ingressPort, handshake('/chat?room=1'), 'hello through the ingress');
    }
    expect(result.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(result.head).toContain('X-Request-Line: GET /chat?room=1 HTTP/1.1');
    expect(result.echoed).toBe('hello through the ingress');
    const big = 'x'.repeat(200_000);
    expect((await upgradeExchange('127.0.0.1', ingressPort, handshake('/big'), big)).echoed.length).toBe(big.length);
    // carried over the node's tunnel (decision 056), not port-forward streams
    expect(cluster.cp.ingress!.carried.tunnelUpgrades).toBeGreaterThanOrEqual(2);
  });

  it('carries the handshake and bytes through the NodePort', async () => {
    const result = await upgradeExchange('127.0.0.2', nodePort, handshake('/node', 'anything'), 'hello through the node port');
    expect(result.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(result.head).toContain('X-Request-Line: GET /node HTTP/1.1');
    expect(result.echoed).toBe('hello through the node port');
  });

  it('answers unknown hosts and hostile Upgrade requests, and keeps serving', async () => {
    expect((await upgradeExchange('127.0.0.1', ingressPort, handshake('/', 'nope.test'))).head).toMatch(/^HTTP\/1\.1 404 /);
    const next = seededRandom(42);
    for (let i = 0; i < 25; i++) {
      const upgrade = hostileString(next).replace(/[\r\n\0]/g, '').slice(0, 300);
      const head = `GET /${encodeURIComponent(hostileString(next))} HTTP/1.1\r\nHost: ws.test\r\nConnection: ${next() < 0.5 ? 'Upgrade' : hostileString(next).replace(/[\r\n\0]/g, '')}\r\nUpgrade: ${upgrade}\r\n\r\n`;
      const answer = await upgradeExchange('127.0.0.1', ingressPort, head).catch((e: Error) => ({ head: `error ${e.message}`, echoed: '' }));
      expect(answer.head).toMatch(/^(HTTP\/1\.1 \d{3}|$)/);
    }
    const after = await upgradeExchange('127.0.0.1', ingressPort, handshake('/after'), 'still here');
    expect(after.echoed).toBe('still here');
  });
});
