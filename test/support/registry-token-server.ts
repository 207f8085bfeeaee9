// A registry token server for tests, as the distribution spec's token auth defines one (docker_auth,
// Harbor's core, Docker Hub's auth.docker.io play this part): GET ?service=&scope= with optional
// Basic credentials -> {"token": JWT}, signed RS256 with a throwaway key whose certificate (x5c)
// the registry trusts through its rootcertbundle. Access is granted per user and repository.
import { createSign, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { ensureTls } from '../../control-plane/api/tls.js';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The certificate the registry trusts tokens by. */
  rootCertBundle: string;
  /** The token server's own TLS CA (the control plane must trust it to ask for tokens). */
  caCert: string;
  /** Token requests seen, with the user that asked ('' when anonymous). */
  requests: Array<{ user: string; scope: string }>;
  stop(): Promise<void>;
}

export interface TokenPolicy {
  /** user -> password */
  users: Record<string, string>;
  /** `user/repository` (user '*' for anyone, anonymous included) -> actions granted */
  grants: Record<string, string[]>;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export async function startTokenServer(dir: string, policy: TokenPolicy): Promise<TokenServer> {
  const service = 'skiff-test-registry';
  const issuer = 'skiff-test-token-server';
  const signing = await generate([{ name: 'commonName', value: issuer }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 24 * 3600_000) });
  const der = Buffer.from(signing.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
  const tls = await ensureTls(dir, { hosts: ['127.0.0.1'] });
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://token');
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let user = '';
    if (basic) {
      const [name = '', ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      if (policy.users[name] === undefined || policy.users[name] !== rest.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = name;
    }
    const scope = url.searchParams.get('scope') ?? '';
    requests.push({ user, scope });
    const access = scope.split(' ').filter(Boolean).map((s) => {
      const [type, name = '', actions = ''] = s.split(':');
      const granted = [...(policy.grants[`${user}/${name}`] ?? []), ...(policy.grants[`*/${name}`] ?? [])];
      return { type, name, actions: actions.split(',').filter((a) => granted.includes(a)) };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(signing.private);
    const token = `${header}.${claims}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `https://127.0.0.1:${port}/token`, service, issuer, rootCertBundle: signing.cert, caCert: tls.caCert, requests,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
