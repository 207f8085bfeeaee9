// Store key layout (/registry/{group|core}/{plural}/[{namespace}/]{name}) and object (de)serialisation.
import { BadRequestError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import type { KeyValue } from '../store/store.js';
import type { ResourceType } from './resource-types.js';

export function objectKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${collectionPrefix(type)}${namespace ?? ''}/${name}` : `${collectionPrefix(type)}${name}`;
}

/** The prefix of every object of `type` (in `namespace` when given); always ends with `/`. */
export function collectionPrefix(type: ResourceType, namespace?: string): string {
  const base = `/registry/${type.group || 'core'}/${type.plural}/`;
  return type.namespaced && namespace ? `${base}${namespace}/` : base;
}

/** Parses a stored value; its resourceVersion is the key's modRevision, never the stored text. */
export function decodeObject<T extends KubeObject>(kv: KeyValue): T {
  const obj = JSON.parse(kv.value) as T;
  obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
  return obj;
}

export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _ignored, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

interface ContinueToken {
  rv: number;
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof token.rv === 'number' && typeof token.start === 'string') return { rv: token.rv, start: token.start };
  } catch {
    // fall through to the 400 below
  }
  throw new BadRequestError('invalid continue token');
}
