// `kubectl port-forward`: GET|POST .../pods/NAME/portforward, upgraded to SPDY/3.1 (`Upgrade:
// SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`) or to a WebSocket that tunnels the
// same SPDY bytes (subprotocol `SPDY/3.1+portforward.k8s.io`, what kubectl 1.31+ tries first).
// For each local connection kubectl opens two streams with the same `requestID` and `port`
// headers: `streamType: error` (a message when forwarding fails) and `streamType: data` (the bytes).
import type { Context } from 'hono';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { BadRequestError, ServiceUnavailableError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import { resourceTypes } from '../../resources/resource-types.js';
import type { ApiDeps } from '../api-deps.js';
import type { ResourceTarget } from '../resource-path.js';
import { statusFromError } from '../status-response.js';
import { upgradeContext } from '../upgrade-requests.js';
import { SpdyConnection, type ByteTransport, type SpdyStream } from './spdy/spdy-connection.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

type Named = ResourceTarget & { name: string };

/** Takes accepted tunnel upgrades over (no server of its own), answering with the tunnel subprotocol. */
const tunnelSockets = new WebSocketServer({ noServer: true, maxPayload: 2 * 1024 * 1024 });
tunnelSockets.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`));

/** Pairs of streams waiting for their partner, per connection. */
const MAX_PENDING_PAIRS = 64;

export function portForwardPod(c: Context, deps: ApiDeps, t: Named): Response {
  const upgrade = upgradeContext(c);
  const kind = (c.req.header('upgrade') ?? '').toLowerCase();
  if (!upgrade || (kind !== 'websocket' && kind !== 'spdy/3.1')) {
    throw new BadRequestError(`port-forward needs an upgrade to SPDY/3.1 (${PORT_FORWARD_PROTOCOL}) or a WebSocket (${PORT_FORWARD_TUNNEL_PROTOCOL})`);
  }
  const namespace = t.namespace ?? 'default';
  if (kind === 'websocket') {
    const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    // refused: kubectl then falls back to plain SPDY
    if (!offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) throw new BadRequestError(`port-forward over WebSocket needs the subprotocol ${PORT_FORWARD_TUNNEL_PROTOCOL}`);
    upgrade.accepted = true;
    // `/` is no token character: ws refuses the offer, so it is taken off the request and answered here
    delete upgrade.incoming.headers['sec-websocket-protocol'];
    tunnelSockets.handleUpgrade(upgrade.incoming, upgrade.socket, upgrade.head, (ws) => serve(deps, webSocketTransport(ws), namespace, t.name));
    return c.body(null, 204);
  }
  const versions = (c.req.header('x-stream-protocol-version') ?? '').split(',').map((p) => p.trim());
  if (!versions.includes(PORT_FORWARD_PROTOCOL)) throw new BadRequestError(`port-forward needs X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}`);
  upgrade.accepted = true;
  const { socket, head } = upgrade;
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}`, '', ''].join('\r\n'));
  serve(deps, socketTransport(socket, head), namespace, t.name);
  return c.body(null, 204);
}

function serve(deps: ApiDeps, transport: ByteTransport, namespace: string, name: string): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  const abort = new AbortController();
  const connection = new SpdyConnection(transport, (stream) => {
    const requestId = stream.header('requestid') ?? String(stream.id);
    const type = stream.header('streamtype');
    if (type !== 'error' && type !== 'data') return stream.reset();
    const pair = pairs.get(requestId) ?? {};
    if (pair[type] || (!pairs.has(requestId) && pairs.size >= MAX_PENDING_PAIRS)) return stream.reset();
    pair[type] = stream;
    pairs.set(requestId, pair);
    if (!pair.error || !pair.data) return;
    pairs.delete(requestId);
    void forward(deps, namespace, name, pair.data.header('port'), pair.error, pair.data, abort.signal)
      .catch((error: unknown) => deps.logger?.warn({ err: String(error) }, 'port-forward stream failed'));
  });
  connection.onClose(() => abort.abort());
}

async function forward(deps: ApiDeps, namespace: string, name: string, portHeader: string | undefined,
  error: SpdyStream, data: SpdyStream, connectionClosed: AbortSignal): Promise<void> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  connectionClosed.addEventListener('abort', stop, { once: true });
  data.onClose(stop);
  try {
    const port = Number(portHeader);
    if (!/^\d{1,5}$/.test(portHeader ?? '') || port < 1 || port > 65535) throw new BadRequestError(`invalid port ${JSON.stringify(portHeader ?? '')}: want 1-65535`);
    const pod = await deps.resources.get<Pod>(resourceTypes.pods, namespace, name);
    const source = deps.exec?.();
    if (!source) throw new ServiceUnavailableError('port-forward is not available yet: the node channel is starting');
    await source.portForward(pod, port, {
      input: (write) => data.read((bytes) => write(bytes), () => write(null)),
      write: (bytes) => data.write(bytes),
      signal: abort.signal,
    });
  } catch (failure) {
    const status = statusFromError(failure);
    error.write(Buffer.from(status.message ?? 'port-forward failed'));
  } finally {
    connectionClosed.removeEventListener('abort', stop);
    error.end();
    data.end();
  }
}

function socketTransport(socket: Duplex, head: Buffer): ByteTransport {
  socket.on('error', () => socket.destroy());
  (socket as { setTimeout?: (ms: number) => void }).setTimeout?.(0); // a forward may idle for long
  return {
    write: (bytes) => void (socket.writable && socket.write(bytes)),
    close: () => socket.end(),
    onData: (listener) => {
      if (head.length > 0) queueMicrotask(() => listener(head));
      socket.on('data', listener);
    },
    onClose: (listener) => socket.once('close', listener),
  };
}

function webSocketTransport(ws: WebSocket): ByteTransport {
  return {
    write: (bytes) => void (ws.readyState === ws.OPEN && ws.send(bytes)),
    close: () => ws.close(1000),
    onData: (listener) => ws.on('message', (bytes: Buffer, isBinary: boolean) => (isBinary ? listener(bytes) : ws.close(1003, 'binary messages only'))),
    onClose: (listener) => ws.once('close', listener),
  };
}
