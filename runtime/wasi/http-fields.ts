// wasi:http/types `fields` (headers and trailers): an ordered multimap of names (case-insensitive)
// to byte values. Fields the host hands out for a request, and those given to a response, are
// immutable: set, append and delete then fail with header-error.immutable.
import { WasiError } from './wasi-errors.js';

type FieldEntry = [name: string, value: Uint8Array];

// RFC 9110 token characters; values may hold anything but NUL, CR and LF
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const validName = (name: string) => TOKEN.test(name);
const validValue = (value: Uint8Array) => !value.some((b) => b === 0 || b === 0x0a || b === 0x0d);

/** Hop-by-hop and connection-level headers a guest may not set (as wasmtime forbids them). */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

const headerError = (tag: 'invalid-syntax' | 'forbidden' | 'immutable') => new WasiError({ tag });

export class Fields {
  #entries: FieldEntry[] = [];
  #immutable = false;

  static fromList(entries: FieldEntry[]): Fields {
    const fields = new Fields();
    for (const [name, value] of entries) fields.append(name, value);
    return fields;
  }

  get(name: string): Uint8Array[] {
    const key = name.toLowerCase();
    return this.#entries.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.#entries.some(([n]) => n.toLowerCase() === key);
  }

  set(name: string, values: Uint8Array[]): void {
    this.#checkWrite(name, values);
    const key = name.toLowerCase();
    this.#entries = this.#entries.filter(([n]) => n.toLowerCase() !== key);
    for (const value of values) this.#entries.push([name, value]);
  }

  delete(name: string): void {
    this.#checkWrite(name, []);
    const key = name.toLowerCase();
    this.#entries = this.#entries.filter(([n]) => n.toLowerCase() !== key);
  }

  append(name: string, value: Uint8Array): void {
    this.#checkWrite(name, [value]);
    this.#entries.push([name, value]);
  }

  entries(): FieldEntry[] {
    return this.#entries.map(([n, v]) => [n, v]);
  }

  /** A mutable copy. */
  clone(): Fields {
    const copy = new Fields();
    copy.#entries = this.entries();
    return copy;
  }

  #checkWrite(name: string, values: Uint8Array[]): void {
    if (this.#immutable) throw headerError('immutable');
    if (!validName(name) || !values.every(validValue)) throw headerError('invalid-syntax');
    if (FORBIDDEN.has(name.toLowerCase())) throw headerError('forbidden');
  }

  /** Host side: makes `fields` immutable (a request's headers, a response's headers once given). */
  static lock(fields: Fields): Fields {
    fields.#immutable = true;
    return fields;
  }

  /** Host side: immutable fields from text headers, leaving out entries that are not valid HTTP. */
  static fromHeaders(headers: ReadonlyArray<readonly [string, string]>): Fields {
    const encoder = new TextEncoder();
    const fields = new Fields();
    for (const [name, value] of headers) {
      const bytes = encoder.encode(value);
      if (validName(name) && validValue(bytes)) fields.#entries.push([name, bytes]);
    }
    return Fields.lock(fields);
  }
}
