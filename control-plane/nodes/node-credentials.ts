// Per-node credentials: issued once per node name in exchange for the bootstrap token, kept in the
// Store as hashes only (SHA-256 for the embedded broker and the API, a mosquitto `$7$` line for an
// external mosquitto), and checked synchronously from memory by the broker's authenticator.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BOOTSTRAP_MQTT_USER } from '../../api/mqtt/node-credential.js';
import { isValidNodeName } from '../broker/broker-acl.js';
import { checkDns1123Subdomain } from '../resources/name-validation.js';
import { mosquittoPasswordLine } from '../broker/mosquitto-config.js';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type Store } from '../store/store.js';

const PREFIX = '/skiff/nodecredentials/';

interface StoredCredential {
  sha256: string;
  mosquittoLine: string;
  issuedAt: string;
  /** SHA-256 of the retry key the exchange carried (api/mqtt/node-credential.ts), if any. */
  retryKeySha256?: string;
}

/** The node already holds a credential: the bootstrap token cannot claim its name again. */
export class NodeCredentialExistsError extends Error {
  override readonly name = 'NodeCredentialExistsError';
  constructor(readonly node: string) {
    super(`node ${node} already has a credential; an administrator must revoke it before the node can join again`);
  }
}

export class InvalidNodeNameError extends Error {
  override readonly name = 'InvalidNodeNameError';
  constructor(readonly node: string, readonly reasons: string[] = []) {
    super(`${JSON.stringify(node.slice(0, 100))} is not a valid node name: ${reasons.join('; ') || `it is reserved (${BOOTSTRAP_MQTT_USER})`}`);
  }
}

/**
 * Why `node` cannot name a node (empty: it can): a Node object's name, so a DNS-1123 subdomain as the
 * real API server (and a CSR's system:node:NAME) requires; `..` or `.` never pass.
 */
export function nodeNameProblems(node: string): string[] {
  const problems = checkDns1123Subdomain(node);
  // a valid subdomain is also a safe MQTT topic level; checked anyway, as the broker ACL relies on it
  if (problems.length === 0 && !isValidNodeName(node)) problems.push('must be a single MQTT topic level');
  return problems;
}

/** A node's credential hash as it is now: `sha256` absent when it was revoked. */
export interface NodeCredentialChange {
  node: string;
  sha256?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sameHash = (a: string | undefined, b: string) => a !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

export class NodeCredentials {
  readonly #byNode = new Map<string, StoredCredential>();
  readonly #nodeByHash = new Map<string, string>();
  readonly #listeners = new Set<(change: NodeCredentialChange) => void | Promise<void>>();

  private constructor(private readonly store: Store) {}

  static async open(store: Store): Promise<NodeCredentials> {
    const credentials = new NodeCredentials(store);
    const list = await store.list(PREFIX);
    for (const kv of list.items) credentials.#remember(kv.key.slice(PREFIX.length), JSON.parse(kv.value) as StoredCredential);
    return credentials;
  }

  has(node: string): boolean {
    return this.#byNode.has(node);
  }

  /** Is a repeat of the node's credential exchange still answered (a retry key on record, not yet confirmed)? */
  hasRetryKey(node: string): boolean {
    return this.#byNode.get(node)?.retryKeySha256 !== undefined;
  }

  /** The node whose credential this is, or undefined. */
  nodeFor(secret: string): string | undefined {
    return this.#nodeByHash.get(sha256(secret));
  }

  /** Does `secret` authenticate `node`? (constant-time compare of the hashes) */
  verify(node: string, secret: string): boolean {
    const stored = this.#byNode.get(node);
    if (!stored) return false;
    return timingSafeEqual(Buffer.from(stored.sha256, 'hex'), Buffer.from(sha256(secret), 'hex'));
  }

  /**
   * Issues the node's credential; the secret is returned once and never stored. A node that has one
   * gets NodeCredentialExistsError, unless `retryKey` is the key of the exchange that made it: then
   * that exchange's answer was lost (a write answered 503 that applied, a timeout) and the node is
   * given a fresh credential in place of the one it never received.
   */
  async issue(node: string, options: { now?: Date; retryKey?: string } = {}): Promise<string> {
    const problems = nodeNameProblems(node);
    if (problems.length > 0 || node === BOOTSTRAP_MQTT_USER) throw new InvalidNodeNameError(node, problems);
    const now = options.now ?? new Date();
    const retryKeySha256 = options.retryKey === undefined ? undefined : sha256(options.retryKey);
    const key = `${PREFIX}${node}`;
    if (!this.#byNode.has(node)) {
      const { secret, stored } = this.#make(node, now, retryKeySha256);
      try {
        await this.store.create(key, JSON.stringify(stored));
        this.#remember(node, stored);
        // e.g. mosquitto reloaded its password file, the broker worker took the hash: the credential works once returned
        await this.#changed({ node, sha256: stored.sha256 });
        return secret;
      } catch (error) {
        if (!(error instanceof KeyExistsError)) throw error;
      }
    }
    // the node has a credential, in memory or only in the store (a create that failed but applied)
    const kv = await this.store.get(key);
    if (!kv) throw new NodeCredentialExistsError(node); // revoked meanwhile: a new request decides
    const onRecord = JSON.parse(kv.value) as StoredCredential;
    if (retryKeySha256 === undefined || !sameHash(onRecord.retryKeySha256, retryKeySha256)) {
      const known = this.#byNode.get(node)?.sha256;
      this.#remember(node, onRecord);
      if (known !== onRecord.sha256) await this.#changed({ node, sha256: onRecord.sha256 }); // the brokers learn it too
      throw new NodeCredentialExistsError(node);
    }
    const { secret, stored } = this.#make(node, now, retryKeySha256);
    try {
      await this.store.update(key, JSON.stringify(stored), kv.modRevision);
    } catch (error) {
      // another repeat of the same exchange won the race; this one is answered as a conflict
      if (error instanceof RevisionMismatchError || error instanceof KeyNotFoundError) throw new NodeCredentialExistsError(node);
      throw error;
    }
    this.#remember(node, stored);
    await this.#changed({ node, sha256: stored.sha256 });
    return secret;
  }

  /**
   * The node has connected with its credential (its presence came over its own session), so the
   * exchange's answer reached it: the retry key on record is dropped, and a repeat of that exchange
   * is refused like any other claim of the name. Returns whether a key was dropped.
   */
  async confirmReceived(node: string): Promise<boolean> {
    const held = this.#byNode.get(node);
    if (held?.retryKeySha256 === undefined) return false;
    const key = `${PREFIX}${node}`;
    const kv = await this.store.get(key);
    if (!kv) return false;
    const onRecord = JSON.parse(kv.value) as StoredCredential;
    // only the credential the node connected with: a rotation meanwhile keeps its own key
    if (onRecord.retryKeySha256 === undefined || onRecord.sha256 !== held.sha256) return false;
    const { retryKeySha256: _dropped, ...confirmed } = onRecord;
    try {
      await this.store.update(key, JSON.stringify(confirmed), kv.modRevision);
    } catch (error) {
      if (error instanceof RevisionMismatchError || error instanceof KeyNotFoundError) return false; // changed meanwhile
      throw error;
    }
    if (this.#byNode.get(node)?.sha256 === confirmed.sha256) this.#remember(node, confirmed);
    return true;
  }

  #make(node: string, now: Date, retryKeySha256: string | undefined): { secret: string; stored: StoredCredential } {
    const secret = `skiff-nc.${randomBytes(32).toString('base64url')}`;
    const stored: StoredCredential = {
      sha256: sha256(secret), mosquittoLine: mosquittoPasswordLine(node, secret), issuedAt: now.toISOString(),
      ...(retryKeySha256 !== undefined ? { retryKeySha256 } : {}),
    };
    return { secret, stored };
  }

  /** Revokes a node's credential (it may then join again with the bootstrap token). Returns whether there was one. */
  async revoke(node: string): Promise<boolean> {
    const stored = this.#byNode.get(node);
    try {
      await this.store.delete(`${PREFIX}${node}`);
    } catch (error) {
      if (!(error instanceof KeyNotFoundError)) throw error;
    }
    if (!stored) return false;
    this.#byNode.delete(node);
    this.#nodeByHash.delete(stored.sha256);
    await this.#changed({ node });
    return true;
  }

  /** mosquitto password-file lines of every node (hashes only). */
  mosquittoLines(): string[] {
    return [...this.#byNode.values()].map((c) => c.mosquittoLine);
  }

  /** Every node's credential hash (what an embedded broker starts from; later changes come by onChange). */
  hashes(): NodeCredentialChange[] {
    return [...this.#byNode].map(([node, stored]) => ({ node, sha256: stored.sha256 }));
  }

  /** Called after each issue, rotation (a retried exchange) and revocation, awaited before the issuer answers. */
  onChange(listener: (change: NodeCredentialChange) => void | Promise<void>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #remember(node: string, stored: StoredCredential): void {
    const before = this.#byNode.get(node);
    if (before && before.sha256 !== stored.sha256) this.#nodeByHash.delete(before.sha256);
    this.#byNode.set(node, stored);
    this.#nodeByHash.set(stored.sha256, node);
  }

  async #changed(change: NodeCredentialChange): Promise<void> {
    await Promise.all([...this.#listeners].map((listener) => listener(change)));
  }
}
