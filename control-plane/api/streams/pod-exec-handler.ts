// `kubectl exec` and `kubectl attach` over WebSocket (what kubectl 1.30+ speaks first): GET|POST
// .../pods/NAME/exec|attach with `Upgrade: websocket` and subprotocol v5.channel.k8s.io or
// v4.channel.k8s.io (remote-command-socket.ts). No TTY; stdin is relayed as it is typed.
import type { Context } from 'hono';
import { WebSocketServer } from 'ws';
import { BadRequestError, ServiceUnavailableError } from '../../../api/errors.js';
import type { Pod } from '../../../api/types/pod.js';
import type { ApiDeps } from '../api-deps.js';
import { resourceTypes } from '../../resources/resource-types.js';
import type { ResourceTarget } from '../resource-path.js';
import { statusFromError } from '../status-response.js';
import { upgradeContext } from '../upgrade-requests.js';
import { execFailureStatus, execStatus, type ExecOutcome, type OutputWriter, type PodExecSource, type StdinRelay } from './exec-session.js';
import { REMOTE_COMMAND_PROTOCOLS, RemoteCommandSocket } from './remote-command-socket.js';

/** Largest client message (a chunk of stdin). */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** One per API app: takes accepted exec/attach upgrades over (no server of its own). */
export const execWebSocketServer = (): WebSocketServer => new WebSocketServer({
  noServer: true,
  maxPayload: MAX_MESSAGE_BYTES,
  handleProtocols: (offered) => REMOTE_COMMAND_PROTOCOLS.find((p) => offered.has(p)) ?? false,
});

type Named = ResourceTarget & { name: string };
type Run = (source: PodExecSource, pod: Pod, q: URLSearchParams, io: { stdin?: StdinRelay; write: OutputWriter; signal: AbortSignal }) => Promise<ExecOutcome>;

/** GET|POST .../pods/NAME/exec: runs `command` as a one-shot instance of the container's component. */
export function execPod(c: Context, deps: ApiDeps, t: Named): Response {
  return upgradeToSession(c, deps, t, 'exec', (source, pod, q, io) => {
    const command = q.getAll('command');
    if (command.length === 0) throw new BadRequestError('you must specify at least one command for the container');
    if (command[0] === 'tar' || command[0]?.endsWith('/tar')) throw new BadRequestError(TAR_MISSING);
    const container = q.get('container') ?? undefined;
    return source.exec(pod, { ...(container ? { container } : {}), command, ...(io.stdin ? { stdin: io.stdin } : {}) }, io.write, io.signal);
  });
}

/** GET|POST .../pods/NAME/attach: the running container's output from now on, and its stdin. */
export function attachPod(c: Context, deps: ApiDeps, t: Named): Response {
  return upgradeToSession(c, deps, t, 'attach', (source, pod, q, io) => {
    const container = q.get('container') ?? undefined;
    return source.attach(pod, { ...(container ? { container } : {}), ...(io.stdin ? { stdin: io.stdin } : {}) }, io.write, io.signal);
  });
}

/** What `kubectl cp` gets: it runs tar in the container, and a Wasm component has none. */
export const TAR_MISSING = 'kubectl cp needs a tar binary in the container, and skiff containers are WebAssembly components without one: '
  + 'copy files through a volume instead (e.g. a hostPath or local volume on the node), or build tar into your component';

/**
 * Reached like any route (authenticated and authorized before it). Only an upgrade to WebSocket is
 * served: the connection is handed to the session, which reports on channel 3.
 */
function upgradeToSession(c: Context, deps: ApiDeps, t: Named, verb: 'exec' | 'attach', run: Run): Response {
  const upgrade = upgradeContext(c);
  if (!upgrade || (c.req.header('upgrade') ?? '').toLowerCase() !== 'websocket') {
    throw new BadRequestError(`${verb} needs a WebSocket upgrade (${REMOTE_COMMAND_PROTOCOLS.join(' or ')}); SPDY is not supported`);
  }
  const offered = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!REMOTE_COMMAND_PROTOCOLS.some((p) => offered.includes(p))) throw new BadRequestError(`${verb} needs the subprotocol ${REMOTE_COMMAND_PROTOCOLS.join(' or ')}`);
  const query = new URL(c.req.url).searchParams;
  const namespace = t.namespace ?? 'default';
  upgrade.accepted = true;
  deps.execSockets.handleUpgrade(upgrade.incoming, upgrade.socket, upgrade.head, (ws) => {
    // from here on, failures are Status messages on the error channel, which kubectl prints as
    // they are (a refused handshake would only make it retry with SPDY)
    const socket = new RemoteCommandSocket(ws);
    void session(deps, socket, query, namespace, t.name, run)
      .catch((error: unknown) => deps.logger?.warn({ err: String(error) }, `${verb} session failed`));
  });
  return c.body(null, 204);
}

async function session(deps: ApiDeps, socket: RemoteCommandSocket, q: URLSearchParams, namespace: string, name: string, run: Run): Promise<void> {
  try {
    // WASI guests get no terminal (skiff provides no wasi:cli/terminal-* to them): no raw mode, no window size to resize
    if (q.get('tty') === 'true') throw new BadRequestError('a TTY is not supported: WebAssembly containers have no terminal, so -t and terminal resize cannot be honoured; run without -t (-i streams stdin as it is typed)');
    const pod = await deps.resources.get<Pod>(resourceTypes.pods, namespace, name);
    const container = q.get('container') ?? undefined;
    const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
    if (container !== undefined && !names.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
    const source = deps.exec?.();
    if (!source) throw new ServiceUnavailableError('exec and attach are not available yet: the node channel is starting');
    const wanted = { 1: q.get('stdout') !== 'false', 2: q.get('stderr') !== 'false' };
    const stdin: StdinRelay | undefined = q.get('stdin') === 'true' ? (write) => socket.pipeStdin(write) : undefined;
    if (socket.signal.aborted) return;
    const outcome = await run(source, pod, q, {
      ...(stdin ? { stdin } : {}),
      write: (stream, bytes) => {
        if (wanted[stream]) socket.send(stream, bytes);
      },
      signal: socket.signal,
    });
    socket.end(execStatus(outcome));
  } catch (error) {
    const status = statusFromError(error);
    socket.end(execFailureStatus(status.message ?? 'failed', status.reason, status.code));
  }
}
