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
 * oversized or malformed fixed header. Backpressure is passed through (pause/resume).
 */
export function guardPacketSize(socket: Socket, maxPacketBytes: number, onReject: (error: Error) => void): Duplex {
  const scanner = new PacketSizeScanner(maxPacketBytes);
  const guarded: Duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, (error) => callback(error ?? null));
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
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
