// What exec and attach calls share: output batched into messages, and stdin relayed from the call's input.
import type { ContainerStdin } from '../../runtime/pod-runtime.js';
import type { RpcReply } from '../agent-channel.js';

/** Largest output chunk sent in one MQTT message (bytes, before base64). */
const CHUNK_BYTES = 32 * 1024;

/** A partial result: output of one stream (1 = stdout, 2 = stderr, as the exec channels number them). */
export interface ExecOutputChunk {
  stream: 1 | 2;
  /** base64 */
  data: string;
}

/** Output written together goes out in one message per stream. */
export class OutputBatcher {
  readonly #pending: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  #scheduled = false;

  constructor(private readonly reply: RpcReply) {}

  write(stream: 'stdout' | 'stderr', chunk: Uint8Array): void {
    this.#pending[stream === 'stdout' ? 1 : 2].push(Buffer.from(chunk));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    for (const stream of [1, 2] as const) {
      const bytes = Buffer.concat(this.#pending[stream].splice(0));
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        this.reply.data({ stream, data: bytes.subarray(at, at + CHUNK_BYTES).toString('base64') } satisfies ExecOutputChunk);
      }
    }
  }
}

/**
 * The call's input to a guest's stdin: `{data: base64}` chunks, then `{end: true}`. `onEnd` (when
 * given) replaces ending the guest's stdin: an attach that detaches need not close it.
 */
export function relayStdin(reply: RpcReply, stdin: ContainerStdin, onEnd: () => void = () => stdin.end()): void {
  let ended = false;
  reply.onInput((input) => {
    if (ended || typeof input !== 'object' || input === null) return;
    const { data, end } = input as { data?: unknown; end?: unknown };
    if (typeof data === 'string') stdin.write(Buffer.from(data, 'base64'));
    if (end === true) {
      ended = true;
      onEnd();
    }
  });
}
