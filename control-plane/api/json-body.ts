// Parses a JSON request body with the checks JSON.parse cannot make: nesting deeper than the cap is
// refused (400) by a linear scan before parsing, and keys repeated within one object are reported
// (fieldValidation names them as `duplicate field "metadata.name"`; JSON.parse keeps the last).
import { BadRequestError } from '../../api/errors.js';
import { MAX_NESTING_DEPTH, NestingTooDeepError } from '../resources/nesting-depth.js';

export interface ParsedJson {
  value: unknown;
  /** Paths of repeated keys, e.g. `spec.replicas`, `spec.containers[0].name`. */
  duplicateFields: string[];
}

interface Frame {
  path: string;
  /** Object frames: keys seen so far, the key whose value comes next, whether a key comes next. */
  keys?: Set<string>;
  key?: string;
  expectKey?: boolean;
  /** Array frames: the index of the current item. */
  index?: number;
}

const MAX_REPORTED = 50;

export function parseJsonBody(text: string, maxDepth = MAX_NESTING_DEPTH): ParsedJson {
  const duplicateFields = scan(text, maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the request body could not be decoded: ${(err as Error).message}`, undefined, { cause: err });
  }
  return { value, duplicateFields };
}

/** One pass over the text: depth and repeated keys. On malformed JSON it gives up quietly (JSON.parse reports). */
function scan(text: string, maxDepth: number): string[] {
  const duplicates: string[] = [];
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.keys) return top.path ? `${top.path}.${top.key ?? ''}` : (top.key ?? '');
    return `${top.path}[${top.index ?? 0}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) {
          escaped = true;
          i++;
        }
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        let key = text.slice(start + 1, i);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(start, i + 1)) as string;
          } catch {
            return duplicates;
          }
        }
        if (top.keys.has(key) && duplicates.length < MAX_REPORTED) duplicates.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (stack.length >= maxDepth) throw new NestingTooDeepError('the request body', maxDepth);
      const path = childPath();
      stack.push(ch === 0x7b ? { path, keys: new Set(), expectKey: true } : { path, index: 0 });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index = (top.index ?? 0) + 1;
    }
  }
  return duplicates;
}
