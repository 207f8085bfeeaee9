// The quota ledger's lock: creates in a namespace with ResourceQuotas are checked and written one
// at a time, so two racing creates cannot both be admitted against the same remaining quota (the
// second one counts the first). One control plane process owns the store, so an in-process lock
// per namespace is the whole ledger; usage is still counted from the live objects.

export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves when `key` is free; call the returned function to free it. */
  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
