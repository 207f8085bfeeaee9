// Store key layout (/registry/{group|core}/{plural}/[{namespace}/]{name}) and object (de)serialisation.
import { BadRequestError } from '../../api/errors.js';
import type { KubeObject } from '../../api/types/meta.js';
import { ownValue, sharedValue } from '../store/decoded-value.js';
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

/**
 * A stored value as a new object of the caller's (a copy of the shared decode when there is one, else
 * a parse); its resourceVersion is the key's modRevision, never the stored text.
 */
export function decodeObject<T extends KubeObject>(kv: KeyValue): T {
  return ownValue(kv) as T;
}

/**
 * The stored value as the object every reader of it shares: deep-frozen, decoded once per stored
 * value when the watch cache hands out `kv` (decoded-value.ts). Copy before changing (decodeObject).
 */
export function sharedObject<T extends KubeObject>(kv: KeyValue): T {
  return sharedValue(kv) as T;
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
