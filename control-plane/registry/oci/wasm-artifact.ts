// Wasm components as OCI artifacts: which manifests and layers skiff accepts, and the manifest it
// pushes. The CNCF layout (wkg, wash, oci-wasm): an OCI image manifest whose config is
// application/vnd.wasm.config.v0+json and whose one layer is application/wasm. Older tools
// (wasm-to-oci, oci-distribution, wasmCloud's first wash) named the layer
// application/vnd.wasm.content.layer.v1+wasm or application/vnd.module.wasm.content.layer.v1+wasm.
// An image index is followed to its wasm/wasip2 (or wasip1, wasi) entry.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const WASM_CONFIG = 'application/vnd.wasm.config.v0+json';
export const WASM_LAYER = 'application/wasm';
export const WASM_LAYER_TYPES = [WASM_LAYER, 'application/vnd.wasm.content.layer.v1+wasm', 'application/vnd.module.wasm.content.layer.v1+wasm'];

/** What a pull asks for: both manifest kinds and both index kinds. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

export class UnsupportedArtifactError extends Error {
  override readonly name = 'UnsupportedArtifactError';
}

interface Descriptor { mediaType?: unknown; digest?: unknown; size?: unknown; platform?: { os?: unknown; architecture?: unknown } }

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Components larger than this are refused (the cluster registry's own limit). */
export const MAX_COMPONENT_BYTES = 64 << 20;

export type ManifestContent =
  | { kind: 'index'; manifestDigest: string }
  | { kind: 'manifest'; layer: { digest: string; size: number; mediaType: string } };

/** Reads a manifest (or index) as received: which layer to pull, or which manifest to follow. */
export function readManifest(bytes: Buffer, contentType: string): ManifestContent {
  let doc: { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; layers?: unknown; config?: Descriptor };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    throw new UnsupportedArtifactError('the manifest is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || doc.schemaVersion !== 2) throw new UnsupportedArtifactError('not an OCI or Docker schema 2 manifest');
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : contentType;
  if (Array.isArray(doc.manifests) || mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST) return { kind: 'index', manifestDigest: pickPlatform(doc.manifests) };
  if (!Array.isArray(doc.layers)) throw new UnsupportedArtifactError('the manifest has no layers');
  const layers = doc.layers as Descriptor[];
  const wasm = layers.filter((l) => typeof l?.mediaType === 'string' && WASM_LAYER_TYPES.includes(l.mediaType));
  if (wasm.length === 0) {
    const types = [...new Set(layers.map((l) => String(l?.mediaType)))].slice(0, 3).join(', ');
    throw new UnsupportedArtifactError(`no Wasm layer (layers are ${types || 'none'}): skiff runs Wasm component artifacts (a single ${WASM_LAYER} layer, as wkg and wash push them), not container images`);
  }
  if (wasm.length > 1) throw new UnsupportedArtifactError(`${wasm.length} Wasm layers (a Spin application?): a container runs one component`);
  const layer = wasm[0]!;
  if (typeof layer.digest !== 'string' || !DIGEST.test(layer.digest)) throw new UnsupportedArtifactError('the Wasm layer has no sha256 digest');
  if (typeof layer.size !== 'number' || !Number.isSafeInteger(layer.size) || layer.size <= 0) throw new UnsupportedArtifactError('the Wasm layer has no size');
  if (layer.size > MAX_COMPONENT_BYTES) throw new UnsupportedArtifactError(`the Wasm layer is ${layer.size} bytes, more than ${MAX_COMPONENT_BYTES}`);
  return { kind: 'manifest', layer: { digest: layer.digest, size: layer.size, mediaType: String(layer.mediaType) } };
}

/** wasm/wasip2 first, then wasip1 and wasi: the entries a Wasm runtime can run. */
function pickPlatform(manifests: unknown): string {
  if (!Array.isArray(manifests)) throw new UnsupportedArtifactError('the image index lists no manifests');
  const entries = manifests as Descriptor[];
  for (const os of ['wasip2', 'wasip1', 'wasi']) {
    const found = entries.find((m) => m?.platform?.architecture === 'wasm' && m.platform.os === os && typeof m.digest === 'string' && DIGEST.test(m.digest));
    if (found) return found.digest as string;
  }
  throw new UnsupportedArtifactError('the image index has no wasm platform (architecture wasm, os wasip2, wasip1 or wasi)');
}

/** The manifest and config `skiff push` writes for one component, in the CNCF Wasm artifact layout. */
export function wasmArtifact(layer: { digest: string; size: number }, os: 'wasip2' | 'wasip1', created: string): { config: Buffer; manifest: (configDigest: string) => Buffer } {
  const config = Buffer.from(JSON.stringify({ created, architecture: 'wasm', os, layerDigests: [layer.digest] }));
  return {
    config,
    manifest: (configDigest) => Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: WASM_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: WASM_LAYER, digest: layer.digest, size: layer.size }],
      annotations: { 'org.opencontainers.image.created': created },
    })),
  };
}
