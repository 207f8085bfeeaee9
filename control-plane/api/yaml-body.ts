// Parses a YAML request body without letting its nesting reach the recursive parts of the YAML
// library (a body nested thousands deep overflowed the stack there, and near the stack's end V8 can
// abort the whole process instead of throwing). A linear scan bounds the nesting from above; only when
// that bound is high does the library's iterative CST parser measure the real depth first.
import { Parser, parse as parseYaml } from 'yaml';
import { BadRequestError } from '../../api/errors.js';
import { assertNestingDepth, MAX_NESTING_DEPTH, NestingTooDeepError } from '../resources/nesting-depth.js';

/** Bounds above which the scan's estimate is not trusted to the parser, and above which nothing is. */
const MEASURE_ABOVE = 2 * MAX_NESTING_DEPTH;
const REFUSE_ABOVE = 4000;

export function parseYamlBody(text: string): unknown {
  const bound = nestingBound(text);
  if (bound > REFUSE_ABOVE) throw new NestingTooDeepError('the request body');
  if (bound > MEASURE_ABOVE && cstDepth(text) > MAX_NESTING_DEPTH) throw new NestingTooDeepError('the request body');
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new BadRequestError(`the request body could not be decoded: ${(err as Error).message}`, undefined, { cause: err });
  }
  assertNestingDepth(value, 'the request body');
  return value;
}

/**
 * An upper bound of the nesting: the deepest unclosed flow bracket count (quoted text skipped) plus the
 * widest line prefix of indentation and block indicators ("- ", "? ", ": ") in columns.
 */
function nestingBound(text: string): number {
  let flow = 0;
  let maxFlow = 0;
  let maxPrefix = 0;
  let lineStart = true;
  let prefix = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      lineStart = true;
      prefix = 0;
      continue;
    }
    if (lineStart) {
      if (ch === ' ' || ch === '\t' || ((ch === '-' || ch === '?' || ch === ':') && (text[i + 1] === ' ' || text[i + 1] === '\n'))) {
        prefix += 1;
        if (prefix > maxPrefix) maxPrefix = prefix;
        continue;
      }
      lineStart = false;
    }
    if (ch === '"' || ch === "'") {
      for (i++; i < text.length && text[i] !== ch && text[i] !== '\n'; i++) if (ch === '"' && text[i] === '\\') i++;
    } else if (ch === '#' && (i === 0 || text[i - 1] === ' ')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (ch === '[' || ch === '{') {
      flow += 1;
      if (flow > maxFlow) maxFlow = flow;
    } else if ((ch === ']' || ch === '}') && flow > 0) {
      flow -= 1;
    }
  }
  return maxFlow + maxPrefix;
}

/** The collection nesting of the document, from the library's iterative CST parser. */
function cstDepth(text: string): number {
  let deepest = 0;
  for (const token of new Parser().parse(text)) {
    const stack: Array<{ node: unknown; depth: number }> = [{ node: token, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (!node || typeof node !== 'object') continue;
      const type = (node as { type?: unknown }).type;
      const here = depth + (type === 'block-map' || type === 'block-seq' || type === 'flow-collection' ? 1 : 0);
      if (here > deepest) deepest = here;
      if (deepest > MAX_NESTING_DEPTH) return deepest;
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        if (child && typeof child === 'object') stack.push({ node: child, depth: here });
      }
    }
  }
  return deepest;
}
