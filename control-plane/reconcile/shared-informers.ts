// One informer per kind for the whole control plane: controllers, the scheduler, node lifecycle and
// the desired publisher ask for the kinds they read, and share the cache and its one watch.
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { ResourceStore } from '../resources/resource-store.js';
import type { ResourceType } from '../resources/resource-types.js';
import { Informer } from './informer.js';

export interface SharedInformersOptions {
  resources: ResourceStore;
  clock: Clock;
  logger: Logger;
}

export class SharedInformers {
  readonly #informers = new Map<string, Informer>();
  readonly #unsubscribe: () => void;
  #stopped = false;

  constructor(private readonly options: SharedInformersOptions) {
    // read-your-writes for every write made through this ResourceStore
    this.#unsubscribe = options.resources.onWrite((type, kind, obj) => this.#informers.get(keyOf(type))?.observeWrite(kind, obj));
  }

  /** The informer of `type`, started on first use. */
  for<T extends KubeObject>(type: ResourceType): Informer<T> {
    const key = keyOf(type);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer(type, this.options);
      this.#informers.set(key, informer);
      if (!this.#stopped) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Resolves once every informer asked for so far holds its first list. */
  async synced(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.synced()));
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe();
    for (const informer of this.#informers.values()) informer.stop();
  }
}

const keyOf = (type: ResourceType) => `${type.group}/${type.plural}`;
