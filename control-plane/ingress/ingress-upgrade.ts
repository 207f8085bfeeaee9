// HTTP Upgrade (WebSocket and any other protocol) through the Ingress gateway: the request's head
// goes to the pod over a byte stream (the node's tunnel when the gateway may use it, else a
// port-forward stream over the node channel), and from
// then on bytes flow both ways untouched until either side ends. The pod answers the handshake
// (101 or anything else) itself. A stream the pod's port refused before any byte came back goes to
// the next endpoint. Only raw TCP guests (wasi:sockets listeners) can answer an upgrade; a wasi:http
// handler's answer comes back as it is (it cannot switch protocols).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TUNNEL_HEADER_PREFIX } from '../../api/tunnel-headers.js';

/** Largest request head the gateway writes on (node:http's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Is this a request to switch protocols that the gateway carries: `Connection: upgrade` with an `Upgrade` token list. */
export function upgradeWanted(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  const connection = req.headers.connection;
  if (typeof upgrade !== 'string' || typeof connection !== 'string' || upgrade.length > 256) return false;
  if (!connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) return false;
  return upgrade.split(',').every((p) => {
    const [name, version, ...rest] = p.trim().split('/');
    return rest.length === 0 && !!name && TOKEN.test(name) && (version === undefined || TOKEN.test(version));
  });
}

/** The head to write to the pod: request line, the client's headers (forwarded ones replaced, none speaking to the tunnel), blank line. */
export function upgradeHead(req: IncomingMessage, forwarded: Record<string, string>): Buffer | undefined {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('x-forwarded-') || lower === 'x-real-ip' || lower.startsWith(TUNNEL_HEADER_PREFIX)) continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  for (const name of ['x-forwarded-for', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host']) {
    if (forwarded[name] !== undefined) lines.push(`${name}: ${forwarded[name]}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return head.length > MAX_HEAD_BYTES ? undefined : head;
}

/**
 * Carries the upgraded connection to one endpoint over a byte stream to the pod (the node's tunnel:
 * IngressTunnel.openStream, or a port-forward stream): resolves 'done' once the pod sent a byte (from
 * then on the two are piped until either ends), or why it refused before answering anything.
 * `release` frees what carries the stream.
 */
export function carryUpgradeOver(upstream: Duplex, release: () => void, head: Buffer, client: Duplex, early: Buffer): Promise<'done' | string> {
  return new Promise((resolve) => {
    let answered = false;
    const end = () => {
      release();
      upstream.destroy();
      client.destroy();
    };
    upstream.once('data', (first: Buffer) => {
      answered = true;
      resolve('done');
      client.write(first);
      upstream.pipe(client);
      client.pipe(upstream);
      client.on('close', end);
      upstream.on('close', () => (client.writableEnded ? client.destroy() : client.end()));
    });
    upstream.on('error', (error: Error) => {
      if (!answered) {
        release();
        return resolve(error.message || 'the pod refused the stream');
      }
      end();
    });
    upstream.on('end', () => {
      if (!answered) resolve('the pod closed the stream without answering');
    });
    upstream.write(head);
    if (early.length) upstream.write(early);
  });
}
