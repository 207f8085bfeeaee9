// ControlledFeed: a Store whose watch feed a test can slow down, break and refuse (for WatchCache tests).
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from '../../../control-plane/store/store.js';

interface Feed {
  watch: Watch;
  onError: ((error: Error) => void) | undefined;
}

export class ControlledFeed implements Store {
  /** Deliver each event on a later turn of the event loop, as a remote store does. */
  isDelayingEvents = false;
  /** New watches fail at once with this error. */
  refusal: Error | undefined;
  watchCalls = 0;
  listCalls = 0;
  readonly #feeds = new Set<Feed>();

  constructor(readonly inner: Store) {}

  create(key: string, value: string): Promise<number> {
    return this.inner.create(key, value);
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.inner.get(key);
  }

  list(prefix: string, options?: ListOptions): Promise<ListResult> {
    this.listCalls++;
    return this.inner.list(prefix, options);
  }

  update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return this.inner.update(key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    return this.inner.delete(key, expectedModRevision);
  }

  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    this.watchCalls++;
    const refusal = this.refusal;
    if (refusal) {
      queueMicrotask(() => onError?.(refusal));
      return { cancel: () => undefined };
    }
    const feed: Feed = {
      onError,
      watch: this.inner.watch(
        prefix,
        options,
        (event) => (this.isDelayingEvents ? setImmediate(() => onEvent(event)) : onEvent(event)),
        (error) => {
          this.#feeds.delete(feed);
          onError?.(error);
        },
      ),
    };
    this.#feeds.add(feed);
    return { cancel: () => (this.#feeds.delete(feed), feed.watch.cancel()) };
  }

  /** Ends every open watch with `error`, as a failing inner store would. */
  breakWatches(error: Error): void {
    for (const feed of [...this.#feeds]) {
      this.#feeds.delete(feed);
      feed.watch.cancel();
      feed.onError?.(error);
    }
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  compactedRevision(): Promise<number> {
    return this.inner.compactedRevision();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
