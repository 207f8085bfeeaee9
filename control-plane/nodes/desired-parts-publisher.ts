// The parts of the desired state that travel on their own retained topics (decision 057): the
// cluster's Services and peers (one message each for the whole cluster) and each node's compiled
// NetworkPolicies. A part is sent only when its content hash differs from the one last sent; its
// generation is the store revision read before its content, so a later part never has a lower one.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { DesiredPartMessage } from '../../api/mqtt/desired-parts.js';
import { MAX_PAYLOAD_BYTES, PROTOCOL_VERSION } from '../../api/mqtt/messages.js';
import type { NodeChannel } from '../node-channel/node-channel.js';

/** Work-queue keys of the parts ('/' never occurs in a node name, so none is a node's key). */
export const PART_KEYS = {
  services: 'cluster/services',
  peers: 'cluster/peers',
  policiesPrefix: 'policies/',
  /** Once at start: clear what the broker retains for nodes that no longer exist. */
  retainedSweep: 'cluster/retained-sweep',
} as const;

export const policiesKey = (node: string) => `${PART_KEYS.policiesPrefix}${node}`;

type Envelope = 'v' | 'generation' | 'hash' | 'cpEpoch' | 'ts';
type PartBody = DesiredPartMessage extends infer M ? M extends DesiredPartMessage ? Omit<M, Envelope> : never : never;

export class DesiredPartTooLargeError extends Error {
  override readonly name = 'DesiredPartTooLargeError';
  constructor(readonly part: string, readonly bytes: number) {
    super(`the desired-state part ${part} is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES} an MQTT message may carry`);
  }
}

export interface DesiredPartsOptions {
  channel: NodeChannel;
  cpEpoch: string;
  clock: Clock;
  logger: Logger;
}

export class DesiredParts {
  /** part key -> hash of the content last sent */
  readonly #sent = new Map<string, string>();

  constructor(private readonly options: DesiredPartsOptions) {}

  /** Sends `body` as the part `key` unless its content is what was sent last; returns whether it sent. */
  async send(key: string, generation: number, body: PartBody): Promise<boolean> {
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
    if (this.#sent.get(key) === hash) return false;
    const message = { v: PROTOCOL_VERSION, generation, hash, cpEpoch: this.options.cpEpoch, ts: this.options.clock.now(), ...body } as DesiredPartMessage;
    const bytes = Buffer.byteLength(JSON.stringify(message));
    // the broker would refuse it (and drop the connection): say why instead, and retry later
    if (bytes > MAX_PAYLOAD_BYTES) throw new DesiredPartTooLargeError(key, bytes);
    await this.options.channel.publishDesiredPart(message);
    this.#sent.set(key, hash);
    this.options.logger.debug({ part: key, generation, bytes }, 'published desired-state part');
    return true;
  }

  /** Forgets what was sent as `key` (a deleted node's policies): the next send goes out whatever it holds. */
  drop(key: string): void {
    this.#sent.delete(key);
  }

  /** Forgets what was sent: every part goes out again (a new control-plane epoch). */
  forget(): void {
    this.#sent.clear();
  }
}
