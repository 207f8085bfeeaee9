// Who may connect to the embedded broker, as data the broker's worker thread can hold: username ->
// SHA-256 of the password and the identity it grants. The main thread owns the credentials and
// posts changes (a node's credential issued, rotated or revoked); the worker answers CONNECTs from
// this table alone, so a revoked credential is refused as soon as its change is acknowledged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Identity } from './broker-acl.js';

export interface CredentialEntry {
  username: string;
  /** hex SHA-256 of the password */
  sha256: string;
  identity: Identity;
}

/** One change: an entry to set (add or rotate), or a username to forget (revoke). */
export type CredentialChange = { set: CredentialEntry } | { remove: string };

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Throws on a change no table may hold (so a bad one never reaches a worker, nor a restarted worker's start). */
export function checkCredentialChange(change: CredentialChange): void {
  if ('set' in change && !SHA256_HEX.test(change.set.sha256)) throw new Error(`credential of ${change.set.username}: not a hex SHA-256`);
}

export class CredentialTable {
  readonly #byUser = new Map<string, { digest: Buffer; identity: Identity }>();

  constructor(entries: Iterable<CredentialEntry> = []) {
    for (const entry of entries) this.apply({ set: entry });
  }

  get size(): number {
    return this.#byUser.size;
  }

  apply(change: CredentialChange): void {
    if ('remove' in change) {
      this.#byUser.delete(change.remove);
      return;
    }
    checkCredentialChange(change);
    const { username, sha256, identity } = change.set;
    this.#byUser.set(username, { digest: Buffer.from(sha256, 'hex'), identity });
  }

  /** The identity `password` proves for `username`, or undefined (constant-time compare of the hashes). */
  authenticate(username: string, password: string): Identity | undefined {
    const entry = this.#byUser.get(username);
    if (!entry) return undefined;
    const given = createHash('sha256').update(password).digest();
    return timingSafeEqual(entry.digest, given) ? entry.identity : undefined;
  }
}
