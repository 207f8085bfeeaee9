// gzip of large documents for clients that accept it, as kube-openapi's /openapi/v2 handler does
// with NYTimes/gziphandler: bodies of at least 1,400 bytes are compressed when Accept-Encoding names
// gzip with a q above 0 (`*` does not count), with `Content-Encoding: gzip`; every answer carries
// `Vary: Accept-Encoding`. kubectl and client-go send `Accept-Encoding: gzip` and inflate
// transparently. Hostile headers are bounded: at most 64 codings of at most 256 characters are read.
import { gzipSync } from 'node:zlib';

/** gziphandler's DefaultMinSize: smaller bodies are not worth a gzip header. */
export const GZIP_MIN_BYTES = 1400;
const MAX_CODINGS = 64;
const MAX_CODING_LENGTH = 256;

/** Whether an Accept-Encoding header asks for gzip (the last mention of it wins). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let q = 0;
  for (const part of header.split(',', MAX_CODINGS)) {
    if (part.length > MAX_CODING_LENGTH) continue;
    const [coding, ...params] = part.split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') continue;
    q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*(\S*)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q)) q = 0;
  }
  return q > 0;
}

const gzipped = new WeakMap<object, Buffer<ArrayBuffer>>();

/** The gzip of a cached document (compressed once, at level 6 as gziphandler's default). */
export function gzipOf(doc: { body: Uint8Array | string }): Buffer<ArrayBuffer> {
  let z = gzipped.get(doc);
  if (!z) {
    z = Buffer.from(gzipSync(typeof doc.body === 'string' ? Buffer.from(doc.body) : doc.body, { level: 6 }));
    gzipped.set(doc, z);
  }
  return z;
}
