// The WebSocket side of `kubectl exec` and `kubectl attach` (remote command protocols
// v5.channel.k8s.io and v4.channel.k8s.io). Every binary message starts with a channel byte:
// 0 stdin, 1 stdout, 2 stderr, 3 error (a Status that ends the session), 4 resize, and in v5 only
// 255 = close of the stream named by the next byte. stdin is relayed as it arrives, not at EOF.
import type { WebSocket } from 'ws';

export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Bytes of stdin held while the command is not started yet (then the client waits on TCP). */
const MAX_HELD_STDIN_BYTES = 1024 * 1024;

export type ChannelFrame =
  | { kind: 'data'; channel: number; payload: Buffer }
  /** v5: the client closed one of its streams (stdin, in practice). */
  | { kind: 'close'; channel: number }
  | { kind: 'invalid'; reason: string };

/** Parses one client message; text messages (v4 allowed base64 ones) are taken as their UTF-8 bytes. */
export function parseChannelFrame(data: Buffer, protocol: string): ChannelFrame {
  if (data.length === 0) return { kind: 'invalid', reason: 'empty message' };
  const channel = data[0]!;
  if (channel === CHANNEL.close) {
    if (protocol !== 'v5.channel.k8s.io') return { kind: 'invalid', reason: 'close frames need v5.channel.k8s.io' };
    if (data.length !== 2) return { kind: 'invalid', reason: 'a close frame names exactly one channel' };
    return { kind: 'close', channel: data[1]! };
  }
  if (channel > CHANNEL.resize) return { kind: 'invalid', reason: `unknown channel ${channel}` };
  return { kind: 'data', channel, payload: data.subarray(1) };
}

/** One accepted exec/attach WebSocket: output channels out, stdin in (buffered until the command listens). */
export class RemoteCommandSocket {
  readonly signal: AbortSignal;
  readonly #abort = new AbortController();
  readonly #held: Array<Buffer | null> = [];
  #heldBytes = 0;
  #stdin: ((bytes: Buffer | null) => void) | undefined;
  #stdinEnded = false;

  constructor(private readonly ws: WebSocket) {
    this.signal = this.#abort.signal;
    ws.once('close', () => {
      this.#endStdin();
      this.#abort.abort();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(isBinary ? data : Buffer.from(data.toString(), 'utf8')));
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  send(channel: number, bytes: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(Buffer.concat([Buffer.of(channel), bytes]));
  }

  /** Writes the final Status on the error channel and closes the socket. */
  end(status: Record<string, unknown>): void {
    this.send(CHANNEL.error, Buffer.from(JSON.stringify(status)));
    this.ws.close(1000);
  }

  /**
   * Relays stdin to `write` (what came before this call first); `null` once the client closed it
   * (v5 close frame for channel 0) or went away. v4 clients cannot close stdin alone.
   */
  pipeStdin(write: (bytes: Buffer | null) => void): void {
    this.#stdin = write;
    for (const bytes of this.#held.splice(0)) write(bytes);
    this.#heldBytes = 0;
  }

  #onMessage(data: Buffer): void {
    const frame = parseChannelFrame(data, this.protocol);
    if (frame.kind === 'close' && frame.channel === CHANNEL.stdin) return this.#endStdin();
    if (frame.kind !== 'data' || frame.channel !== CHANNEL.stdin || frame.payload.length === 0 || this.#stdinEnded) return;
    if (this.#stdin) return this.#stdin(frame.payload);
    if (this.#heldBytes + frame.payload.length > MAX_HELD_STDIN_BYTES) return;
    this.#heldBytes += frame.payload.length;
    this.#held.push(Buffer.from(frame.payload));
  }

  #endStdin(): void {
    if (this.#stdinEnded) return;
    this.#stdinEnded = true;
    if (this.#stdin) this.#stdin(null);
    else this.#held.push(null);
  }
}
