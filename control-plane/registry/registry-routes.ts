// HTTP routes of the component registry, mounted on the API server:
//   POST /registry/v1/push?ref=NAME:TAG   (body: the .wasm bytes)  -> { ref, digest, size }
//   GET  /registry/v1/blobs/sha256:HEX     -> the bytes (agents fetch components here)
//   GET  /registry/v1/tags                 -> { items: [{ ref, digest, size, pushedAt }] }
import { Readable } from 'node:stream';
import type { Hono } from 'hono';
import type { ComponentRegistry } from './component-registry.js';
import { InvalidImageReferenceError } from './image-reference.js';
import { isOciReference } from './oci/oci-reference.js';

/** Blobs the cluster does not hold yet but is pulling from an OCI registry (oci/oci-puller.ts). */
export interface PullThroughBlobs {
  /** The blob's bytes as they arrive, or undefined when it is not being (and cannot be) pulled. */
  openBlob(digest: string): Readable | undefined;
  /** Why its last pull failed, if it did. */
  failure(digest: string): string | undefined;
  /** The blob's size, when it is being pulled. */
  size(digest: string): number | undefined;
}

export const MAX_COMPONENT_BYTES = 64 << 20;

export function mountRegistryRoutes(app: Hono, registry: ComponentRegistry, pullThrough?: PullThroughBlobs): void {
  app.post('/registry/v1/push', async (c) => {
    const ref = c.req.query('ref');
    if (!ref) return c.json({ error: 'query parameter ref (NAME:TAG) is required' }, 400);
    if (isOciReference(ref)) return c.json({ error: `${ref} names an OCI registry: skiff push sends it there, not to the cluster registry` }, 400);
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length === 0) return c.json({ error: 'empty body: send the component bytes' }, 400);
    if (body.length > MAX_COMPONENT_BYTES) return c.json({ error: `component larger than ${MAX_COMPONENT_BYTES} bytes` }, 413);
    if (body[0] !== 0x00 || body[1] !== 0x61 || body[2] !== 0x73 || body[3] !== 0x6d) {
      return c.json({ error: 'not a WebAssembly binary (missing \\0asm header)' }, 400);
    }
    try {
      return c.json(await registry.push(ref, body), 201);
    } catch (error) {
      if (error instanceof InvalidImageReferenceError || error instanceof TypeError) return c.json({ error: error.message }, 400);
      throw error;
    }
  });
  app.get('/registry/v1/blobs/:digest', async (c) => {
    const digest = c.req.param('digest');
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return c.json({ error: 'invalid digest' }, 400);
    const bytes = await registry.readBlob(digest);
    if (bytes) return c.body(new Uint8Array(bytes), 200, { 'content-type': 'application/wasm', 'docker-content-digest': digest });
    const arriving = pullThrough?.openBlob(digest);
    if (arriving) {
      // streamed while the control plane pulls it; the agent verifies the digest of what it got
      const size = pullThrough!.size(digest);
      return new Response(Readable.toWeb(arriving) as ReadableStream, {
        status: 200, headers: { 'content-type': 'application/wasm', 'docker-content-digest': digest, ...(size !== undefined ? { 'content-length': String(size) } : {}) },
      });
    }
    const failure = pullThrough?.failure(digest);
    if (failure) return c.json({ error: `pulling ${digest} from its registry failed: ${failure}` }, 502);
    return c.json({ error: `blob ${digest} not found` }, 404);
  });
  app.get('/registry/v1/tags', async (c) => c.json({ items: await registry.tags() }));
}
