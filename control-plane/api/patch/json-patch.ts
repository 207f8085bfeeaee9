// RFC 6902 JSON patch (add, remove, replace, move, copy, test) over RFC 6901 pointers.
import { ApiError } from '../../../api/errors.js';
import { stableStringify } from '../../resources/stable-stringify.js';

/** 422 like the real API server when a JSON patch cannot be applied. */
export class PatchApplyError extends ApiError {
  override readonly name = 'PatchApplyError';
  readonly code = 422;
  readonly reason = 'Invalid';
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchApplyError('a JSON patch must be an array of operations');
  let result = structuredClone(doc);
  for (const raw of ops as Operation[]) {
    if (!raw || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchApplyError('each JSON patch operation needs "op" and "path"');
    switch (raw.op) {
      case 'add': result = put(result, raw.path, structuredClone(raw.value), 'add'); break;
      case 'replace': result = put(result, raw.path, structuredClone(raw.value), 'replace'); break;
      case 'remove': result = remove(result, raw.path); break;
      case 'move': {
        const value = get(result, from(raw));
        result = put(remove(result, from(raw)), raw.path, value, 'add');
        break;
      }
      case 'copy': result = put(result, raw.path, structuredClone(get(result, from(raw))), 'add'); break;
      case 'test':
        if (stableStringify(get(result, raw.path)) !== stableStringify(raw.value)) throw new PatchApplyError(`testing value ${raw.path} failed`);
        break;
      default: throw new PatchApplyError(`unsupported JSON patch operation "${raw.op}"`);
    }
  }
  return result;
}

const from = (op: Operation) => {
  if (typeof op.from !== 'string') throw new PatchApplyError(`"${op.op}" operation needs "from"`);
  return op.from;
};

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, pointer: string): { parent: unknown; key: string } {
  const parts = tokens(pointer);
  const key = parts.pop();
  if (key === undefined) return { parent: undefined, key: '' };
  let parent: unknown = doc;
  for (const p of parts) parent = child(parent, p, pointer);
  return { parent, key };
}

function child(node: unknown, key: string, pointer: string): unknown {
  if (Array.isArray(node)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= node.length) throw new PatchApplyError(`path ${pointer}: index ${key} is out of range`);
    return node[i];
  }
  if (node && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, key)) return (node as Record<string, unknown>)[key];
  throw new PatchApplyError(`path ${pointer}: doc is missing key: ${key}`);
}

function get(doc: unknown, pointer: string): unknown {
  return tokens(pointer).reduce((node, key) => child(node, key, pointer), doc);
}

function put(doc: unknown, pointer: string, value: unknown, mode: 'add' | 'replace'): unknown {
  if (pointer === '') return value;
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!/^\d+$|^-$/.test(key) || i > parent.length || (mode === 'replace' && i >= parent.length)) throw new PatchApplyError(`path ${pointer}: index ${key} is out of range`);
    if (mode === 'add') parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (parent && typeof parent === 'object') {
    if (mode === 'replace' && !Object.prototype.hasOwnProperty.call(parent, key)) throw new PatchApplyError(`jsonpatch replace operation does not apply: doc is missing key: ${pointer}`);
    (parent as Record<string, unknown>)[key] = value;
  } else throw new PatchApplyError(`path ${pointer}: parent is not a container`);
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const { parent, key } = parentOf(doc, pointer);
  child(parent, key, pointer);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete (parent as Record<string, unknown>)[key];
  return doc;
}
