// Caps MQTT packet size on a raw socket: aedes 1.x buffers a whole packet before any hook runs,
// so a peer announcing a huge remaining length must be cut off while its bytes are still arriving.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export class PacketTooLargeError extends Error {
  override readonly name = 'PacketTooLargeError';
  constructor(readonly packetBytes: number, readonly maxPacketBytes: number) {
    super(`MQTT packet of ${packetBytes} bytes exceeds ${maxPacketBytes}`);
  }
}

export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError';
}

type ScanState =
  | { at: 'header' }
  | { at: 'length'; value: number; multiplier: number; lengthBytes: number }
  | { at: 'body'; left: number };

/** Follows packet boundaries through the byte stream; reads only the fixed headers. */
export class PacketSizeScanner {
  #state: ScanState = { at: 'header' };
  constructor(readonly maxPacketBytes: number) {}

  /** Throws PacketTooLargeError / MalformedPacketError as soon as a header gives the packet away. */
  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const s = this.#state;
      if (s.at === 'header') {
        i += 1;
        this.#state = { at: 'length', value: 0, multiplier: 1, lengthBytes: 0 };
      } else if (s.at === 'length') {
        const byte = chunk[i++]!;
        const value = s.value + (byte & 0x7f) * s.multiplier;
        const lengthBytes = s.lengthBytes + 1;
        if (byte & 0x80) {
          if (lengthBytes === 4) throw new MalformedPacketError('remaining length longer than 4 bytes');
          this.#state = { at: 'length', value, multiplier: s.multiplier * 128, lengthBytes };
          continue;
        }
        const packetBytes = 1 + lengthBytes + value;
        if (packetBytes > this.maxPacketBytes) throw new PacketTooLargeError(packetBytes, this.maxPacketBytes);
        this.#state = value === 0 ? { at: 'header' } : { at: 'body', left: value };
      } else {
        const take = Math.min(s.left, chunk.length - i);
        i += take;
        this.#state = s.left === take ? { at: 'header' } : { at: 'body', left: s.left - take };
      }
    }
  }
}

/**
 * Wraps a socket in a duplex that forwards bytes unchanged and destroys the connection on an
 * oversized or malformed fixed header. Backpressure is passed through (pause/resume, and a write
 * waits for 'drain' while the socket is over its mark). What aedes writes to a client in one turn
 * of the event loop leaves in one socket write: aedes writes every packet on its own, so the
 * control plane's client, which receives every agent's lease, cost a syscall per lease.
 */
export function guardPacketSize(socket: Socket, maxPacketBytes: number, onReject: (error: Error) => void): Duplex {
  const scanner = new PacketSizeScanner(maxPacketBytes);
  let queued: Buffer[] = [];
  let isFlushScheduled = false;
  const flush = (): void => {
    isFlushScheduled = false;
    const chunks = queued;
    queued = [];
    // a write error reaches the socket's 'error' listener below, which destroys the duplex
    if (chunks.length && !socket.destroyed) socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  };
  const guarded: Duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      queued.push(chunk);
      if (!isFlushScheduled) {
        isFlushScheduled = true;
        setImmediate(flush);
      }
      if (socket.writableNeedDrain) socket.once('drain', () => callback());
      else callback();
    },
    final(callback) {
      flush();
      socket.end(callback);
    },
    destroy(error, callback) {
      // what aedes wrote just before closing (a refusing CONNACK) still goes out, as it did unqueued
      flush();
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      scanner.feed(chunk);
    } catch (error) {
      onReject(error as Error);
      socket.destroy();
      guarded.destroy();
      return;
    }
    if (!guarded.push(chunk)) socket.pause();
  });
  socket.on('end', () => guarded.push(null));
  socket.on('error', () => guarded.destroy());
  socket.on('close', () => guarded.destroy());
  return guarded;
}
