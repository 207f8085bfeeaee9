// NodeMesh.start with a certificate stored on disk: loading it also notifies the mesh's onChange
// listener, and the mesh must still start one tunnel server, not two (the second one held an
// ephemeral port open after close(), so `npm run bench:network` never exited; on a fixed port it
// failed with EADDRINUSE). close() frees the port.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeCertificate, nodeTlsPath } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh } from '../../../agent/network/mesh.js';
import { NodeNetwork } from '../../../agent/network/node-network.js';
import { ensureTls } from '../../../control-plane/api/tls.js';
import { NodeCertificateIssuer } from '../../../control-plane/nodes/node-certificates.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const bindable = (port: number) => new Promise<boolean>((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

describe('NodeMesh.start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('starts one tunnel server from a stored certificate, and close() frees its port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-mesh-start-'));
    dirs.push(dir);
    await ensureTls(dir, { hosts: ['127.0.0.1'] });
    const issuer = new NodeCertificateIssuer(dir, []);
    await writeFile(nodeTlsPath(dir), JSON.stringify({ node: 'node-a', ...(await issuer.issue('node-a', [])) }));
    const port = await freePort();
    const errors: string[] = [];
    const mesh = new NodeMesh({
      certificate: new NodeCertificate({ node: 'node-a', token: 'unused', dataDir: dir, ips: [] }),
      host: '127.0.0.1', port, onError: (_what, error) => errors.push(error.message),
    });
    await mesh.start(new NodeNetwork());
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([]);
    expect(mesh.port).toBe(port);
    expect(await bindable(port)).toBe(false);
    await mesh.close();
    expect(await bindable(port)).toBe(true);
  });
});
