// A byte stream into one of a pod's TCP ports, for `kubectl port-forward` (and later the Service
// data path): the narrow interface the agent's port-forward calls use. Today a port held by an
// HTTP handler is reached: the bytes are parsed as HTTP/1.1 by an in-process node:http server (no
// listening socket) and each request runs the handler, as on a hostPort. Raw guest listeners have
// no byte path yet (pod-network.ts).
import { createServer, type Server } from 'node:http';
import { Duplex, PassThrough } from 'node:stream';
import type { Clock } from '../../api/clock.js';
import { DEFAULT_HOST_PORT_MAX_BODY_BYTES, DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, proxyRequest } from './host-port-proxy.js';
import type { HttpHandle, PortHolder } from './pod-network.js';

/** The caller's end of a stream to a pod port. */
export interface PodStream {
  write(bytes: Buffer): void;
  /** The caller closed its side. */
  end(): void;
  /** Bytes from the pod, then `onEnd` when the pod's side is done. */
  read(onData: (bytes: Buffer) => void, onEnd: () => void): void;
  /** Ends both sides now. */
  destroy(): void;
}

export class PodStreamError extends Error {
  override readonly name = 'PodStreamError';
}

/** Opens a stream to whoever holds the port; throws PodStreamError when nothing there can take one. */
export function openPodStream(holder: PortHolder | undefined, port: number, podName: string, clock: Clock): PodStream {
  if (!holder) throw new PodStreamError(`nothing listens on port ${port} in pod ${podName}: connection refused`);
  if (holder.kind !== 'http') {
    throw new PodStreamError(`port ${port} in pod ${podName} is a raw TCP listener (container ${holder.container}): only HTTP handlers can be reached yet`);
  }
  return httpHandlerStream(holder.handle, port, clock);
}

function httpHandlerStream(handle: HttpHandle, port: number, clock: Clock): PodStream {
  const toPod = new PassThrough();
  const fromPod = new PassThrough();
  // the server's socket: reads what the caller writes, writes what the caller reads
  const socket = Duplex.from({ readable: toPod, writable: fromPod });
  const server: Server = createServer((req, res) => {
    void proxyRequest(req, res, handle, {
      clock, requestTimeoutMs: DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, maxBodyBytes: DEFAULT_HOST_PORT_MAX_BODY_BYTES, authority: `localhost:${port}`,
    });
  });
  server.on('clientError', (_error, s) => s.destroy());
  socket.on('error', () => undefined);
  server.emit('connection', socket);
  return {
    write: (bytes) => void (toPod.writable && toPod.write(bytes)),
    end: () => toPod.end(),
    read: (onData, onEnd) => {
      fromPod.on('data', (bytes: Buffer) => onData(bytes));
      let ended = false;
      const done = () => {
        if (!ended) onEnd();
        ended = true;
      };
      fromPod.once('end', done);
      fromPod.once('close', done);
      socket.once('close', () => fromPod.end());
    },
    destroy: () => {
      socket.destroy();
      fromPod.end();
    },
  };
}
