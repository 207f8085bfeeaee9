// `skiff push FILE.wasm HOST[:PORT]/REPO:TAG`: publishes a component to an OCI registry as a Wasm
// artifact (the CNCF layout wkg and wash write: config application/vnd.wasm.config.v0+json, one
// application/wasm layer), which pods then name as their image. Credentials come from the flags,
// or from the Docker config (`docker login`) as other registry tools read it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DistributionClient } from '../control-plane/registry/oci/distribution-client.js';
import { parseOciReference } from '../control-plane/registry/oci/oci-reference.js';
import type { RegistryCredentials } from '../control-plane/registry/oci/registry-auth.js';
import { credentialsFor } from '../control-plane/registry/oci/pull-secrets.js';
import { MAX_COMPONENT_BYTES, OCI_MANIFEST, wasmArtifact } from '../control-plane/registry/oci/wasm-artifact.js';
import { detectBinaryKind } from '../runtime/component-format.js';

export interface OciPushOptions {
  credentials?: RegistryCredentials;
  /** Reach the registry over plain HTTP. */
  plainHttp?: boolean;
  caCerts?: string[];
  /** Where `docker login` keeps credentials (default $DOCKER_CONFIG or ~/.docker). */
  dockerConfigDir?: string;
}

export interface OciPushed {
  ref: string;
  /** The manifest's digest: pods may pin `HOST/REPO@DIGEST`. */
  digest: string;
  layerDigest: string;
  size: number;
}

export async function pushToOciRegistry(file: string, image: string, options: OciPushOptions = {}): Promise<OciPushed> {
  const ref = parseOciReference(image);
  if (ref.digest || !ref.tag) throw new Error(`push to ${image}: name a tag (HOST/REPO:TAG), not a digest`);
  const bytes = await readFile(file);
  if (bytes.length > MAX_COMPONENT_BYTES) throw new Error(`${file} is larger than ${MAX_COMPONENT_BYTES} bytes`);
  const os = detectBinaryKind(bytes) === 'component' ? 'wasip2' : 'wasip1';
  const credentials = options.credentials ?? await dockerConfigCredentials(ref.registry, options.dockerConfigDir);
  const client = new DistributionClient(ref.registry, {
    ...(credentials ? { credentials } : {}),
    transport: { ...(options.plainHttp ? { insecureRegistries: [ref.registry] } : {}), ...(options.caCerts ? { caCerts: options.caCerts } : {}) },
  });
  const layerDigest = await client.pushBlob(ref.repository, bytes);
  const artifact = wasmArtifact({ digest: layerDigest, size: bytes.length }, os, new Date().toISOString());
  const configDigest = await client.pushBlob(ref.repository, artifact.config);
  const digest = await client.putManifest(ref.repository, ref.tag, artifact.manifest(configDigest), OCI_MANIFEST);
  return { ref: `${ref.registry}/${ref.repository}:${ref.tag}`, digest, layerDigest, size: bytes.length };
}

/** The `auths` entry of the Docker config for `registry`, if any (credential helpers are not run). */
async function dockerConfigCredentials(registry: string, dir = process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker')): Promise<RegistryCredentials | undefined> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return undefined;
  const config = await readFile(path, 'utf8');
  const secret = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(config).toString('base64') } };
  return credentialsFor(registry, [{ name: path, secret }])[0];
}
