// `kubectl exec` over WebSocket (what kubectl 1.30+ speaks first): GET .../pods/NAME/exec with
// `Upgrade: websocket` and subprotocol v5.channel.k8s.io or v4.channel.k8s.io. Every binary
// message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (a Status that ends
// the session), 255 (v5) close of a stream. No TTY; stdin, when asked for, is read until the
// client closes it (v5 only: a v4 client cannot close stdin alone) and then given to the command
// whole (the command runs as a one-shot instance).
import type { Context } from 'hono';
import { WebSocketServer, type WebSocket } from 'ws';
import { BadRequestError, ServiceUnavailableError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { ApiDeps } from './api-deps.js';
import { resourceTypes } from '../resources/resource-types.js';
import { execFailureStatus, execStatus } from './exec-session.js';
import type { ResourceTarget } from './resource-path.js';
import { statusFromError } from './status-response.js';
import { upgradeContext } from './upgrade-requests.js';

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, close: 255 } as const;
const MAX_STDIN_BYTES = 1024 * 1024;

/** One per API app: takes accepted exec upgrades over (no server of its own). */
export const execWebSocketServer = (): WebSocketServer => new WebSocketServer({
  noServer: true,
  maxPayload: MAX_STDIN_BYTES,
  handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
});

/**
 * GET|POST .../pods/NAME/exec, reached like any route (authenticated and authorized before it). Only an
 * upgrade to WebSocket is served: the connection is handed to the session, which reports on channel 3.
 */
export function execPod(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Response {
  const upgrade = upgradeContext(c);
  if (!upgrade || (c.req.header('upgrade') ?? '').toLowerCase() !== 'websocket') {
    throw new BadRequestError(`exec needs a WebSocket upgrade (${PROTOCOLS.join(' or ')}); SPDY is not supported`);
  }
  const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!PROTOCOLS.some((p) => offered.includes(p))) throw new BadRequestError(`exec needs the subprotocol ${PROTOCOLS.join(' or ')}`);
  const query = new URL(c.req.url).searchParams;
  const namespace = t.namespace ?? 'default';
  upgrade.accepted = true;
  deps.execSockets.handleUpgrade(upgrade.incoming, upgrade.socket, upgrade.head, (ws) => {
    // from here on, failures are Status messages on the error channel, which kubectl prints as
    // they are (a refused handshake would only make it retry with SPDY)
    void session(deps, ws, query, namespace, t.name)
      .catch((error: unknown) => deps.logger?.warn({ err: String(error) }, 'exec session failed'));
  });
  return c.body(null, 204);
}

async function session(deps: ApiDeps, ws: WebSocket, q: URLSearchParams, namespace: string, name: string): Promise<void> {
  const abort = new AbortController();
  ws.once('close', () => abort.abort());
  const send = (channel: number, bytes: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), bytes]));
  };
  const end = (status: Record<string, unknown>) => {
    send(CHANNEL.error, Buffer.from(JSON.stringify(status)));
    ws.close(1000);
  };
  try {
    const command = q.getAll('command');
    if (command.length === 0) throw new BadRequestError('you must specify at least one command for the container');
    if (q.get('tty') === 'true') throw new BadRequestError('exec with a TTY is not supported: run the command without -t');
    const pod = await deps.resources.get<Pod>(resourceTypes.pods, namespace, name);
    const container = q.get('container') ?? undefined;
    const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
    if (container !== undefined && !names.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
    const source = deps.exec?.();
    if (!source) throw new ServiceUnavailableError('exec is not available yet: the node channel is starting');
    const wanted = { 1: q.get('stdout') !== 'false', 2: q.get('stderr') !== 'false' };
    const stdin = q.get('stdin') === 'true' ? await readStdin(ws) : undefined;
    if (abort.signal.aborted) return;
    const outcome = await source.exec(pod, { ...(container ? { container } : {}), command, ...(stdin ? { stdin } : {}) }, (stream, bytes) => {
      if (wanted[stream]) send(stream, bytes);
    }, abort.signal);
    end(execStatus(outcome));
  } catch (error) {
    const status = statusFromError(error);
    end(execFailureStatus(status.message ?? 'exec failed', status.reason, status.code));
  }
}

/** stdin until the client closes it (v5: a close message for channel 0; v4: only by closing the socket). */
function readStdin(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      ws.off('message', onMessage);
      resolve(Buffer.concat(chunks));
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data.toString(), 'utf8');
      if (bytes[0] === CHANNEL.close && bytes[1] === CHANNEL.stdin) return done();
      if (bytes[0] !== CHANNEL.stdin) return;
      size += bytes.length - 1;
      if (size > MAX_STDIN_BYTES) return done();
      chunks.push(bytes.subarray(1));
    };
    ws.on('message', onMessage);
    ws.once('close', done);
  });
}
