// Reads a request body within the size limit and decodes it by Content-Type (JSON, YAML, protobuf),
// refusing bodies nested deeper than the cap (400) and noting repeated JSON keys for fieldValidation.
import type { Context } from 'hono';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../api/errors.js';
import { assertNestingDepth, NestingTooDeepError } from '../resources/nesting-depth.js';
import { parseJsonBody } from './json-body.js';
import { decodeProtobufObject } from './protobuf.js';
import { parseYamlBody } from './yaml-body.js';

export const defaultMaxBodyBytes = 3 * 1024 * 1024;

export const mediaType = (c: Context): string => (c.req.header('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();

export async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const body = c.req.raw.body;
  if (!body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (maxBytes: number) => new RequestEntityTooLargeError(`the request body is larger than the limit of ${maxBytes} bytes`);

export interface RequestBody {
  value: unknown;
  /** Keys repeated within one JSON object, by path (empty for YAML, which refuses them, and protobuf). */
  duplicateFields: string[];
}

/** Parses the body; `types` lists the media types this endpoint takes besides JSON. */
export async function readBodyFields(c: Context, maxBytes: number, types: string[] = []): Promise<RequestBody> {
  const type = mediaType(c);
  const bytes = await readBodyBytes(c, maxBytes);
  if (type === 'application/vnd.kubernetes.protobuf' && types.includes(type)) {
    const value = decodeProtobufObject(bytes);
    assertNestingDepth(value, 'the request body');
    return { value, duplicateFields: [] };
  }
  if (type !== 'application/json' && !types.includes(type)) {
    throw new UnsupportedMediaTypeError(`the body of the request was in an unknown format - accepted media types include: ${['application/json', ...types].join(', ')}`);
  }
  const textBody = new TextDecoder().decode(bytes);
  if (textBody.trim() === '') throw new BadRequestError('the request body is empty');
  if (!type.endsWith('yaml')) return parseJsonBody(textBody);
  // kubectl sends server-side apply patches as JSON under a YAML media type: parse those as JSON
  if (/^\s*\{/.test(textBody)) {
    try {
      return parseJsonBody(textBody);
    } catch (err) {
      if (err instanceof NestingTooDeepError) throw err; // else: YAML flow syntax, parsed below
    }
  }
  return { value: parseYamlBody(textBody), duplicateFields: [] };
}
