// Byte streams to a TCP port of a pod on this node: the one way in for the agent itself
// (port-forward) and for a guest's wasi:sockets connect. Whoever holds the port takes it:
// - a guest listener (wasi:sockets): the connection's shared ring buffers go to the guest's
//   accept queue (runtime/net/byte-ring.ts); the agent's end is a RingDuplex;
// - an HTTP-handler container: the bytes are parsed as HTTP/1.1 by an in-process node:http server
//   (no listening socket) and each request runs the handler, as on a hostPort.
// Nothing there: connection refused (PodNetworkError).
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../../api/clock.js';
import type { StreamAcceptor, StreamEnd } from '../../runtime/net/byte-ring.js';
import { connectDuplex, duplexAcceptor } from '../../runtime/net/ring-duplex.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import { DEFAULT_HOST_PORT_MAX_BODY_BYTES, DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, proxyRequest } from '../pods/host-port-proxy.js';
import type { HttpHandle, PodNetwork } from '../pods/pod-network.js';

/** Where a connection comes from, as the accepting guest's remote-address shows it. */
export type StreamSource = StreamEnd['from'];

/** The acceptor of TCP `port` of the pod; throws PodNetworkError('connection-refused') when nothing can take a connection there. */
export function portAcceptor(network: PodNetwork, port: number, clock: Clock = systemClock): StreamAcceptor {
  const holder = network.holder(port);
  const where = `${network.host}:${port}`;
  if (!holder) throw new PodNetworkError('connection-refused', `dial tcp ${where}: connect: connection refused`);
  if (holder.kind === 'http') return duplexAcceptor((stream) => serveHttp(stream, holder.handle, port, clock));
  if (!holder.accept) throw new PodNetworkError('connection-refused', `dial tcp ${where}: connect: connection refused (the listener of container ${holder.container} takes no connections)`);
  return holder.accept;
}

/**
 * Opens a byte stream to TCP `port` of the pod (the agent's end: write what the client sends,
 * read what the pod answers; end() is a FIN, destroy() a close). Throws PodNetworkError.
 */
export function openPodByteStream(network: PodNetwork, port: number, options: { clock?: Clock; from?: StreamSource } = {}): Duplex {
  const stream = connectDuplex(portAcceptor(network, port, options.clock), options.from);
  if (!stream) throw new PodNetworkError('connection-refused', `dial tcp ${network.host}:${port}: connect: connection refused`);
  return stream;
}

/** HTTP/1.1 over `socket` to the handler, in process. */
function serveHttp(socket: Duplex, handle: HttpHandle, port: number, clock: Clock): void {
  const server = createServer((req, res) => {
    void proxyRequest(req, res, handle, {
      clock, requestTimeoutMs: DEFAULT_HOST_PORT_REQUEST_TIMEOUT_MS, maxBodyBytes: DEFAULT_HOST_PORT_MAX_BODY_BYTES, authority: `localhost:${port}`,
    });
  });
  server.on('clientError', (_error, s) => s.destroy());
  socket.on('error', () => undefined);
  server.emit('connection', socket);
}
