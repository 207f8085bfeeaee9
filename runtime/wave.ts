// A small part of WAVE (the WebAssembly Value Encoding wasmtime uses for `--invoke 'f(1, "x")'`):
// a call expression parsed into a name and JS values for jco's bindings (numbers, strings, chars,
// bools, lists, tuples, option/result cases), and values formatted back the same way.

export class WaveSyntaxError extends Error {
  override readonly name = 'WaveSyntaxError';
}

export interface WaveCall {
  name: string;
  args: unknown[];
}

/** `name(v1, v2, ...)`; a bare `name` is a call without arguments. */
export function parseWaveCall(text: string): WaveCall {
  const open = text.indexOf('(');
  if (open < 0) return { name: text.trim(), args: [] };
  if (!text.trimEnd().endsWith(')')) throw new WaveSyntaxError(`expected ')' at the end of ${text}`);
  const parser = new Parser(text.slice(open + 1, text.trimEnd().length - 1));
  const args = parser.list(undefined);
  return { name: text.slice(0, open).trim(), args };
}

class Parser {
  #at = 0;
  constructor(private readonly text: string) {}

  /** Comma-separated values up to `end` (undefined: the end of the text). */
  list(end: string | undefined): unknown[] {
    const values: unknown[] = [];
    this.#space();
    if (this.#peek() === end || (end === undefined && this.#done())) return (end && this.#at++, values);
    for (;;) {
      values.push(this.value());
      this.#space();
      if (end !== undefined && this.#peek() === end) return (this.#at++, values);
      if (end === undefined && this.#done()) return values;
      if (this.#peek() !== ',') throw new WaveSyntaxError(`expected ',' at ${this.#at} in ${this.text}`);
      this.#at++;
      this.#space();
    }
  }

  value(): unknown {
    this.#space();
    const c = this.#peek();
    if (c === '"') return this.#string('"');
    if (c === "'") return this.#string("'");
    if (c === '[') return (this.#at++, this.list(']'));
    if (c === '(') return (this.#at++, this.list(')'));
    const word = /^[-+]?[\w.]+/.exec(this.text.slice(this.#at))?.[0];
    if (!word) throw new WaveSyntaxError(`unexpected '${c ?? 'end'}' at ${this.#at} in ${this.text}`);
    this.#at += word.length;
    if (word === 'true' || word === 'false') return word === 'true';
    if (['some', 'ok', 'err'].includes(word) && this.#peek() === '(') {
      this.#at++;
      const [inner] = this.list(')');
      return word === 'some' ? inner : { tag: word, val: inner };
    }
    if (word === 'none') return undefined;
    if (/^[-+]?\d+$/.test(word)) {
      const big = BigInt(word);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    if (/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|nan|inf)$/.test(word)) return word.endsWith('nan') ? NaN : word.endsWith('inf') ? (word.startsWith('-') ? -Infinity : Infinity) : Number(word);
    return word; // an enum case or flag name
  }

  #string(quote: string): string {
    const rest = this.text.slice(this.#at);
    const match = new RegExp(`^${quote}((?:[^${quote}\\\\]|\\\\.)*)${quote}`).exec(rest);
    if (!match) throw new WaveSyntaxError(`unterminated string at ${this.#at} in ${this.text}`);
    this.#at += match[0].length;
    return unescape(match[1]!);
  }

  #space(): void {
    while (/\s/.test(this.text[this.#at] ?? '')) this.#at++;
  }
  #peek(): string | undefined {
    return this.text[this.#at];
  }
  #done(): boolean {
    return this.#at >= this.text.length;
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\' };
function unescape(text: string): string {
  return text.replace(/\\(u\{([0-9a-fA-F]+)\}|.)/g, (whole, what: string, hex: string | undefined) => {
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    const char = ESCAPES[what];
    if (char === undefined) throw new WaveSyntaxError(`unknown escape ${whole}`);
    return char;
  });
}

/** A value returned by jco's bindings, written as WAVE. */
export function formatWave(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(formatWave).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `[${Array.from(value as unknown as ArrayLike<number>, (v) => formatWave(v)).join(', ')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('tag' in o) return o['val'] === undefined ? String(o['tag']) : `${String(o['tag'])}(${formatWave(o['val'])})`;
    return `{${Object.entries(o).map(([k, v]) => `${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}: ${formatWave(v)}`).join(', ')}}`;
  }
  return String(value);
}
