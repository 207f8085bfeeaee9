// Reads a request body within the size limit and decodes it by Content-Type (JSON, YAML, protobuf).
import type { Context } from 'hono';
import { parse as parseYaml } from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from '../../api/errors.js';
import { decodeProtobufObject } from './protobuf.js';

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

/** Parses the body as an object; `types` lists the media types this endpoint takes besides JSON. */
export async function readBody(c: Context, maxBytes: number, types: string[] = []): Promise<unknown> {
  const type = mediaType(c);
  const bytes = await readBodyBytes(c, maxBytes);
  if (type === 'application/vnd.kubernetes.protobuf' && types.includes(type)) return decodeProtobufObject(bytes);
  const textBody = new TextDecoder().decode(bytes);
  if (type === 'application/json' || types.includes(type)) {
    if (textBody.trim() === '') throw new BadRequestError('the request body is empty');
    try {
      return type.endsWith('yaml') ? parseYaml(textBody) : JSON.parse(textBody);
    } catch (err) {
      throw new BadRequestError(`the request body could not be decoded: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  throw new UnsupportedMediaTypeError(`the body of the request was in an unknown format - accepted media types include: ${['application/json', ...types].join(', ')}`);
}
