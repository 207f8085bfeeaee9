// One end of a relayed TCP connection (api/mqtt/relay.ts, decision 038): a local Duplex (the pod's
// byte stream on node B; the frames to agent A on the control plane) joined to messages of the
// node channel. Data goes in chunks and each side sends at most RELAY_STREAM_WINDOW bytes the other
// has not acknowledged; a chunk is acknowledged once the local stream took it (its write callback),
// so a slow reader on one end stops the writer on the other. FIN and reset travel as messages.
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import { RELAY_STREAM_CHUNK_BYTES, RELAY_STREAM_WINDOW, relayStreamMessage, type RelayStreamMessage } from '../mqtt/relay.js';
import { connectionReset } from './framed-stream.js';

export interface MessageStreamEnd {
  /** A message from the other end (ignored unless it is one). */
  receive(message: unknown): void;
  /** Whether it is over (then `finished` was called). */
  readonly over: boolean;
}

/**
 * Joins `local` to the other end: `send` carries a message there; `finished(reset)` is called once,
 * when the connection is over (reset: it ended with a reset or an error, else both ways finished).
 */
export function joinMessages(local: Duplex, send: (message: RelayStreamMessage) => void, finished: (reset: boolean) => void): MessageStreamEnd {
  let unacked = 0;
  let over = false;
  const finish = (reset: boolean) => {
    if (over) return;
    over = true;
    if (reset) send({ reset: true });
    finished(reset);
  };
  local.on('data', (chunk: Buffer) => {
    for (let at = 0; at < chunk.length; at += RELAY_STREAM_CHUNK_BYTES) {
      const piece = chunk.subarray(at, at + RELAY_STREAM_CHUNK_BYTES);
      unacked += piece.length;
      send({ data: piece.toString('base64') });
    }
    if (unacked >= RELAY_STREAM_WINDOW) local.pause();
  });
  local.on('end', () => { if (!over) send({ fin: true }); });
  local.on('error', () => finish(true));
  local.on('close', () => finish(!(local.readableEnded && local.writableFinished)));
  return {
    get over() {
      return over;
    },
    receive(message) {
      const parsed = v.safeParse(relayStreamMessage, message);
      if (over || !parsed.success) return;
      const m = parsed.output;
      if ('data' in m) {
        const bytes = Buffer.from(m.data, 'base64');
        if (bytes.length === 0 || local.writableEnded) return;
        local.write(bytes, (error) => { if (!error && !over) send({ ack: bytes.length }); });
      } else if ('ack' in m) {
        unacked = Math.max(0, unacked - m.ack);
        if (unacked < RELAY_STREAM_WINDOW && local.isPaused()) local.resume();
      } else if ('fin' in m) {
        if (!local.writableEnded) local.end();
      } else if ('reset' in m) {
        over = true; // the other end knows
        local.destroy(connectionReset());
        finished(true);
      }
    },
  };
}
