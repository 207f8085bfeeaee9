// The request path exactly as the client sent it, split into segments that are percent-decoded once.
// URL parsing normalises "." and ".." (also "%2e", ".%2E", "\"), so ".../pods/.." would address the
// namespace: such paths are refused with 400 before authorization and routing, never normalised.
import type { Context, MiddlewareHandler } from 'hono';
import { BadRequestError } from '../../api/errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The path's non-empty segments, each decoded once (set for every request before routing). */
    requestPath: string[];
  }
}

/** The raw request target's path: from Node's request line when served over HTTP(S), else the URL. */
export function rawRequestPath(c: Context): string {
  const incoming = (c.env as { incoming?: { url?: unknown } } | undefined)?.incoming;
  const target = typeof incoming?.url === 'string' ? incoming.url : new URL(c.req.url).pathname;
  const path = target.split('?', 1)[0]!;
  // absolute-form targets (GET https://host/path HTTP/1.1): the path starts after the authority
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  return absolute ? path.slice(absolute[0].length) || '/' : path;
}

/** Splits and decodes a raw path; throws BadRequestError for dot segments, encoded slashes, bad escapes. */
export function decodePathSegments(rawPath: string): string[] {
  if (rawPath.includes('\\')) throw refused(rawPath, 'a backslash');
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw refused(rawPath, `the malformed escape in "${raw}"`);
    }
    if (segment === '.' || segment === '..') throw refused(rawPath, `a "${segment}" segment`);
    if (segment.includes('/') || segment.includes('\\')) throw refused(rawPath, 'an encoded "/" or "\\" inside a segment');
    segments.push(segment);
  }
  return segments;
}

const refused = (path: string, what: string) =>
  new BadRequestError(`the request path ${JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}...` : path)} contains ${what}: such paths are refused, never normalised`);

/** First middleware of the API: every request, upgrades included, has its path checked and decoded here. */
export const decodeRequestPath: MiddlewareHandler = async (c, next) => {
  c.set('requestPath', decodePathSegments(rawRequestPath(c)));
  return next();
};
