// Datagram frames on a node's UDP link to another node (agent/network/udp-tunnel.ts, decision 054)
// or to the control plane's UDP relay (control-plane/nodes/relay-udp-routes.ts): each
// datagram a pod of the sending node sends to a pod of the receiving node, with both addresses:
//   [length u32: bytes after this field][version u8 = 1][source ipv4 4][source port u16]
//   [destination ipv4 4][destination port u16][payload: 0 - 65,507 bytes]
// Pod addresses are ipv4 (the cluster's pod CIDR). A frame that breaks these rules ends the link
// (there is no resynchronising a byte stream); a well-formed one is then judged by the receiver.
/** Largest UDP payload over ipv4 (65,535 - 8 bytes UDP header - 20 bytes IP header); the runtime takes it from here. */
export const MAX_DATAGRAM_IPV4 = 65_507;

/** A pod's UDP address. */
export interface DatagramSource {
  host: string;
  port: number;
}

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 13;
export const MAX_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_DATAGRAM_IPV4;

export interface DatagramFrame {
  from: DatagramSource;
  to: DatagramSource;
  data: Uint8Array;
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function writeIp(view: DataView, offset: number, ip: string): void {
  const parts = IPV4.exec(ip);
  if (!parts) throw new FrameError(`not an ipv4 pod address: ${ip.slice(0, 64)}`);
  for (let i = 0; i < 4; i++) {
    const byte = Number(parts[i + 1]);
    if (byte > 255) throw new FrameError(`not an ipv4 pod address: ${ip.slice(0, 64)}`);
    view.setUint8(offset + i, byte);
  }
}

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;

/** One frame for `data` from `from` to `to`; throws FrameError for what cannot be framed. */
export function encodeFrame(from: DatagramSource, to: DatagramSource, data: Uint8Array): Uint8Array {
  if (data.length > MAX_DATAGRAM_IPV4) throw new FrameError(`a datagram of ${data.length} bytes is larger than ${MAX_DATAGRAM_IPV4}`);
  if (!validPort(from.port) || !validPort(to.port)) throw new FrameError('ports must be 1-65535');
  const frame = new Uint8Array(4 + FRAME_HEADER_BYTES + data.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, FRAME_HEADER_BYTES + data.length);
  view.setUint8(4, FRAME_VERSION);
  writeIp(view, 5, from.host);
  view.setUint16(9, from.port);
  writeIp(view, 11, to.host);
  view.setUint16(15, to.port);
  frame.set(data, 4 + FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Splits a link's bytes, however they are chunked, into frames. At a malformed frame it stops:
 * the frames before it are returned, `broken` says why, and every later push returns nothing.
 */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);
  #broken: string | undefined;

  get broken(): string | undefined {
    return this.#broken;
  }

  push(chunk: Uint8Array): DatagramFrame[] {
    if (this.#broken) return [];
    const frames: DatagramFrame[] = [];
    try {
      this.#parse(chunk, frames);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.#broken = error.message;
      this.#pending = Buffer.alloc(0);
    }
    return frames;
  }

  #parse(chunk: Uint8Array, frames: DatagramFrame[]): void {
    this.#pending = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    let offset = 0;
    while (this.#pending.length - offset >= 4) {
      const length = this.#pending.readUInt32BE(offset);
      if (length < FRAME_HEADER_BYTES || length > MAX_FRAME_BYTES) throw new FrameError(`bad frame length ${length}`);
      if (this.#pending.length - offset - 4 < length) break;
      const start = offset + 4;
      if (this.#pending[start] !== FRAME_VERSION) throw new FrameError(`unknown frame version ${this.#pending[start]}`);
      const ip = (at: number) => `${this.#pending[at]}.${this.#pending[at + 1]}.${this.#pending[at + 2]}.${this.#pending[at + 3]}`;
      const from = { host: ip(start + 1), port: this.#pending.readUInt16BE(start + 5) };
      const to = { host: ip(start + 7), port: this.#pending.readUInt16BE(start + 11) };
      if (!validPort(from.port) || !validPort(to.port)) throw new FrameError('ports must be 1-65535');
      // a copy: the payload outlives the link's buffer (it is posted to a worker)
      frames.push({ from, to, data: new Uint8Array(this.#pending.subarray(start + FRAME_HEADER_BYTES, start + length)) });
      offset = start + length;
    }
    this.#pending = offset === this.#pending.length ? Buffer.alloc(0) : this.#pending.subarray(offset);
  }

  /** Bytes of an incomplete frame held. */
  get buffered(): number {
    return this.#pending.length;
  }
}
