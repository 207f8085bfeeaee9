// A byte stream into one of a pod's TCP ports, for `kubectl port-forward`: the narrow interface
// the agent's port-forward calls use, over network/pod-byte-stream.ts (a raw guest listener gets
// the connection in its accept queue; an HTTP handler's port is served by an in-process HTTP/1.1
// server, as on a hostPort).
import type { Clock } from '../../api/clock.js';
import { PodNetworkError } from '../../runtime/pod-runtime.js';
import { openPodByteStream } from '../network/pod-byte-stream.js';
import type { PodNetwork } from './pod-network.js';

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
export function openPodStream(network: PodNetwork, port: number, podName: string, clock: Clock): PodStream {
  let stream;
  try {
    stream = openPodByteStream(network, port, { clock, from: { host: '127.0.0.1', port: 0 } });
  } catch (error) {
    if (!(error instanceof PodNetworkError)) throw error;
    throw new PodStreamError(network.holder(port) ? error.message : `nothing listens on port ${port} in pod ${podName}: connection refused`);
  }
  stream.on('error', () => undefined); // a reset ends the stream ('close')
  return {
    write: (bytes) => void (stream.writable && stream.write(bytes)),
    end: () => stream.end(),
    read: (onData, onEnd) => {
      stream.on('data', (bytes: Buffer) => onData(bytes));
      let ended = false;
      const done = () => {
        if (!ended) onEnd();
        ended = true;
      };
      stream.once('end', done);
      stream.once('close', done);
    },
    destroy: () => stream.destroy(),
  };
}
