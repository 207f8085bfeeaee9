// What both raw TCP upgrades share (the tunnel's to a peer without HTTP/2, tunnel-tcp.ts; the
// relay's through the control plane, relay-stream-client.ts): the request settles once, with the
// upgraded link as a FramedStream (api/net/framed-stream.ts) or with an error; an outcome that
// comes after it settled is dropped (a late stream destroyed), and an error destroys the request.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FramedStream } from '../../api/net/framed-stream.js';

export interface UpgradeOutcomes {
  timeoutMs: number;
  /** When `timeoutMs` passed: the error to settle with, or undefined to keep waiting. */
  onTimeout(): Error | undefined;
  /** Any answer but 101, with its body (the first 64 chunks), or the error that cut it. */
  refused(res: IncomingMessage, body: string, error?: Error): Error;
  /** The request failed (no answer). */
  failed(error: NodeJS.ErrnoException): Error;
}

/** Sends `req` (ends it) and settles once. */
export function settleUpgrade(req: ClientRequest, outcomes: UpgradeOutcomes): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, stream?: Duplex) => {
      if (settled) return void stream?.destroy();
      settled = true;
      clearTimeout(timer);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(stream!);
    };
    const timer = setTimeout(() => {
      const error = outcomes.onTimeout();
      if (error) finish(error);
    }, outcomes.timeoutMs);
    req.on('upgrade', (_res, socket, head) => {
      socket.on('error', () => undefined);
      finish(undefined, new FramedStream(socket, head));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => { if (chunks.length < 64) chunks.push(chunk); });
      res.on('end', () => finish(outcomes.refused(res, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (error) => finish(outcomes.refused(res, '', error)));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish(outcomes.failed(error)));
    req.end();
  });
}
