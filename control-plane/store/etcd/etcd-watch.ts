// One Store watch on an etcd watch stream: converts events, resumes from its own cursor, maps compaction.
import type { Etcd3, IEvent, Watcher } from 'etcd3';
import { CompactedError, type Watch, type WatchEvent } from '../store.js';
import { readCompactedRevision } from './etcd-compaction.js';
import type { EtcdKeys } from './etcd-keys.js';

export interface EtcdWatchCallbacks {
  onEvent: (event: WatchEvent) => void;
  onError: ((error: Error) => void) | undefined;
  onClose: () => void;
}

export class EtcdWatch implements Watch {
  readonly #watcher: Watcher;
  /** The last revision delivered (or the one the watch started after). */
  #cursorRevision: number | undefined;
  #isClosed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    prefix: string,
    fromRevision: number | undefined,
    private readonly callbacks: EtcdWatchCallbacks,
  ) {
    this.#cursorRevision = fromRevision;
    const builder = client.watch().inRange({ start: keys.range(prefix).key, end: keys.range(prefix).range_end }).withPreviousKV();
    if (fromRevision !== undefined) builder.startRevision(String(fromRevision + 1));
    this.#watcher = builder.watcher();
    this.#watcher.on('connected', (response) => {
      this.#cursorRevision ??= Number(response.header.revision);
    });
    this.#watcher.on('data', (response) => {
      for (const event of response.events) if (!this.#deliver(event)) return;
    });
    // etcd3 resumes from the header revision of the last response, which runs ahead of the events
    // delivered while a watch catches up: resume from what was actually delivered.
    this.#watcher.on('disconnected', () => {
      if (this.#cursorRevision !== undefined) this.#watcher.request.start_revision = String(this.#cursorRevision + 1);
    });
    this.#watcher.on('error', (error) => void this.#failFrom(error));
  }

  cancel(): void {
    if (this.#close()) void this.#watcher.cancel().catch(() => undefined);
  }

  #deliver(event: IEvent): boolean {
    if (this.#isClosed) return false;
    const revision = Number(event.kv.mod_revision);
    if (this.#cursorRevision !== undefined && revision <= this.#cursorRevision) return true;
    this.#cursorRevision = revision;
    try {
      this.callbacks.onEvent(this.#toWatchEvent(event, revision));
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
    return !this.#isClosed;
  }

  #toWatchEvent(event: IEvent, revision: number): WatchEvent {
    const prevKv = event.prev_kv ? this.keys.toKeyValue(event.prev_kv) : undefined;
    if (event.type === 'Delete') {
      const key = this.keys.fromEtcd(event.kv.key);
      const kv = { key, value: prevKv?.value ?? '', createRevision: prevKv?.createRevision ?? 0, modRevision: revision };
      return prevKv ? { type: 'delete', kv, prevKv, created: false } : { type: 'delete', kv, created: false };
    }
    const kv = this.keys.toKeyValue(event.kv);
    return prevKv ? { type: 'put', kv, prevKv, created: false } : { type: 'put', kv, created: kv.createRevision === revision };
  }

  /** etcd cancels a watch below the horizon without saying why: ask for the horizon to tell. */
  async #failFrom(error: Error): Promise<void> {
    if (this.#isClosed) return;
    const cursor = this.#cursorRevision ?? 0;
    const compacted = await readCompactedRevision(this.client, this.keys.probeKey).catch(() => 0);
    this.#fail(cursor + 1 < compacted ? new CompactedError(cursor, compacted) : error);
  }

  #fail(error: Error): void {
    if (!this.#close()) return;
    void this.#watcher.cancel().catch(() => undefined);
    this.callbacks.onError?.(error);
  }

  /** Returns true the first time only. */
  #close(): boolean {
    if (this.#isClosed) return false;
    this.#isClosed = true;
    this.callbacks.onClose();
    return true;
  }
}
