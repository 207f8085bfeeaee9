// A pod's volumes as host directories, mounted into its containers as WASI preopens and shared by
// them: emptyDir (disk, or tmpfs for medium Memory), hostPath (only under allowed prefixes),
// configMap, secret, downwardAPI and projected (files, rewritten when their sources change; a
// serviceAccountToken source is a token bound to the pod, rotated: agent/volumes/projected-tokens.ts),
// persistentVolumeClaim (the directory of the claim's bound PersistentVolume, resolved by the
// control plane; local-path volumes live in the data dir: agent/volumes/local-path-dirs.ts).
// Secrets, and anything projected from one, live only on tmpfs (like the kubelet's secret
// volumes): never on disk. emptyDirs with a sizeLimit are listed for the eviction monitor.
import { mkdir, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { localPathDir } from '../../api/local-path.js';
import type { DesiredPod } from '../../api/mqtt/messages.js';
import { parseBytes } from '../../api/quantity.js';
import type { Container, Pod } from '../../api/types/pod.js';
import type { Preopen } from '../../runtime/pod-runtime.js';
import type { SizeLimitedVolume } from '../volumes/empty-dir-monitor.js';
import { resolveContained, UnsafePathError } from '../volumes/contained-path.js';
import { allowedHostDir, isHostPathAllowed } from '../volumes/host-path-dirs.js';
import { volumeHostDir } from '../volumes/local-path-dirs.js';
import type { ConfigLookup } from './config-lookup.js';
import type { Clock } from '../../api/clock.js';
import { TokenRequestError, type ServiceAccountTokenSource } from '../credentials/token-request-client.js';
import { ProjectedTokens, tokenSources } from '../volumes/projected-tokens.js';
import { ContainerConfigError } from './container-config.js';

export interface VolumeHostOptions {
  /** Disk volumes: DATA_DIR/pods/UID/volumes/NAME; local-path volumes: DATA_DIR/volumes/local-path/DIR. */
  dataDir: string;
  /** A tmpfs directory (default /dev/shm/skiff-NODE) for secrets and medium Memory. */
  memoryDir: string;
  allowedHostPaths: readonly string[];
  /** How often emptyDir usage is checked against sizeLimit (default 10 s). */
  sizeLimitCheckIntervalMs?: number;
  /** Where projected ServiceAccount tokens come from (absent: pods with one wait in CreateContainerConfigError). */
  serviceAccountTokens?: { source: ServiceAccountTokenSource; clock: Clock; onError?: (pod: Pod, error: Error) => void };
}

/** The pod's bound claims, as the desired state resolves them (pod volume name -> volume and node path). */
export type ResolvedClaims = NonNullable<DesiredPod['persistentVolumes']>;

/** A volume that cannot be mounted yet (its claim is not bound): the pod waits, ContainerCreating. */
export class VolumeNotReadyError extends Error {
  override readonly name = 'VolumeNotReadyError';
}

type Obj = Record<string, unknown>;
type FileSource = { path: string; data: Buffer };

/** hostPath types whose path names something a Wasm container cannot mount (preopens are directories). */
const NON_DIRECTORY_TYPES = new Set(['File', 'FileOrCreate', 'Socket', 'CharDevice', 'BlockDevice']);

export class PodVolumes {
  /** volume name -> host directory */
  readonly #dirs = new Map<string, string>();
  #prepared: Promise<void> | undefined;
  #tokens: ProjectedTokens | undefined;
  /** The API could not be reached for a token: the pod runs without it until a retry gets it (edge autonomy). */
  #tokensOffline = false;
  /** close() was called: nothing more is written (the agent is removing its tmpfs directory). */
  #closed = false;
  /** Writes in flight (prepare, update, token rotation): close() waits for them. */
  readonly #writing = new Set<Promise<unknown>>();

  constructor(private pod: Pod, private readonly host: VolumeHostOptions, private config: ConfigLookup | undefined,
    private readonly facts: { podIP?: string; nodeName: string }, private claims: ResolvedClaims | undefined = undefined) {}

  /** Creates every volume once (later calls wait for the first); throws ContainerConfigError. */
  prepare(): Promise<void> {
    this.#prepared ??= this.#track(this.#materialise()).catch((error: unknown) => {
      this.#prepared = undefined; // retried on the next container start
      throw error;
    });
    return this.#prepared;
  }

  /** New sources (desired state changed): file volumes are rewritten in place. */
  update(pod: Pod, config: ConfigLookup | undefined, claims?: ResolvedClaims): Promise<void> {
    this.pod = pod;
    this.config = config;
    this.claims = claims;
    this.#tokens?.setPod(pod);
    return this.#track(this.#rewrite(new Set(this.#dirs.keys())));
  }

  /**
   * Stops every write (token rotation, rewrites, a prepare in flight) and resolves once none is
   * running: the agent removes its tmpfs directory next, and a write landing under that rm made it
   * fail (ENOTEMPTY) or left files behind. A prepare still running fails instead of writing.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tokens?.stop();
    await Promise.allSettled([...this.#writing]);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#writing.add(work);
    const done = () => this.#writing.delete(work);
    work.then(done, done);
    return work;
  }

  /** Throws once close() was called: called after every wait of a write path. */
  #checkOpen(): void {
    if (this.#closed) throw new VolumeNotReadyError('the pod\'s volumes are closed: the agent is stopping');
  }

  /**
   * The container's volumeMounts as preopens, each a canonical host directory (subPath: a directory
   * inside the volume, created when missing as the kubelet does). A subPath is resolved on the real
   * filesystem: a symlink in it (a guest may have made one in a shared emptyDir) is followed only
   * while it stays inside the volume.
   */
  preopens(container: Container): Preopen[] {
    return (container.volumeMounts ?? []).map((m) => {
      const dir = this.#dirs.get(m.name);
      if (!dir) throw new ContainerConfigError(`volumeMount ${m.name}: no volume of that name in the pod`);
      let hostPath = dir;
      if (m.subPath) {
        if (isAbsolute(m.subPath) || m.subPath.split(/[\\/]/).includes('..')) {
          throw new ContainerConfigError(`volumeMount ${m.name}: subPath ${m.subPath} must be a relative path without '..'`);
        }
        try {
          hostPath = resolveContained(dir, m.subPath, { create: !this.#isReadOnlySource(m.name) });
        } catch (error) {
          if (error instanceof UnsafePathError) throw new ContainerConfigError(`volumeMount ${m.name}: subPath ${m.subPath}: ${error.message}`);
          throw error;
        }
      }
      return { hostPath, guestPath: m.mountPath, readOnly: m.readOnly === true || this.#isReadOnlySource(m.name) };
    });
  }

  /** The emptyDirs with a sizeLimit created so far (an unparsable limit was refused when creating it). */
  sizeLimited(): SizeLimitedVolume[] {
    const out: SizeLimitedVolume[] = [];
    for (const volume of this.pod.spec.volumes ?? []) {
      const limit = ((volume as Obj)['emptyDir'] as Obj | null | undefined)?.['sizeLimit'];
      const dir = this.#dirs.get(volume.name);
      if (limit === undefined || limit === null || !dir) continue;
      out.push({ name: volume.name, dir, limitBytes: parseBytes(String(limit)), limitText: String(limit) });
    }
    return out;
  }

  /** The local-path directories (names under DATA_DIR/volumes/local-path) this pod's claims use. */
  localPathDirs(): string[] {
    return Object.values(this.claims ?? {}).flatMap((c) => {
      const dir = c.path === undefined ? undefined : localPathDir(c.path);
      return dir ? [dir] : [];
    });
  }

  /** Removes the pod's own volumes (emptyDir, config files); claims and host paths stay. */
  async cleanup(): Promise<void> {
    const uid = this.pod.metadata.uid!;
    await this.close(); // a write still running would refill the directory under rm
    await rm(join(this.host.dataDir, 'pods', uid), { recursive: true, force: true });
    await rm(join(this.host.memoryDir, uid), { recursive: true, force: true });
  }

  async #materialise(): Promise<void> {
    const uid = this.pod.metadata.uid!;
    this.#checkOpen();
    await this.#ensureTokens();
    for (const volume of this.pod.spec.volumes ?? []) {
      this.#checkOpen();
      const v = volume as Obj & { name: string };
      const onDisk = join(this.host.dataDir, 'pods', uid, 'volumes', v.name);
      const inMemory = join(this.host.memoryDir, uid, v.name);
      let dir: string;
      if (v['emptyDir'] !== undefined) {
        const limit = (v['emptyDir'] as Obj | null)?.['sizeLimit'];
        if (limit !== undefined && limit !== null && !isQuantity(limit)) throw new ContainerConfigError(`volume ${v.name}: invalid emptyDir sizeLimit "${String(limit)}"`);
        dir = (v['emptyDir'] as Obj | null)?.['medium'] === 'Memory' ? inMemory : onDisk;
        await mkdir(dir, { recursive: true });
      } else if (v['hostPath'] !== undefined) {
        dir = this.#hostPathDir(v.name, v['hostPath'] as Obj);
      } else if (v['persistentVolumeClaim'] !== undefined) {
        const claim = String((v['persistentVolumeClaim'] as Obj)['claimName'] ?? '');
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(claim)) throw new ContainerConfigError(`volume ${v.name}: invalid claimName "${claim}"`);
        dir = this.#claimDir(v.name, claim);
      } else {
        const files = this.#files(v, false);
        if (!files) throw new ContainerConfigError(`volume ${v.name}: unsupported volume source ${Object.keys(v).filter((k) => k !== 'name').join(', ')}`);
        dir = this.#holdsSecrets(v) ? inMemory : onDisk;
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await writeFiles(dir, files);
      }
      // canonical, as preopens must be (the agent's own directories may sit below a symlink, e.g. /tmp)
      this.#dirs.set(v.name, await realpath(dir));
    }
  }

  /** The canonical directory of a hostPath volume (type Directory: must exist; unset, DirectoryOrCreate: created). */
  #hostPathDir(volume: string, source: Obj): string {
    const path = String(source['path'] ?? '');
    const type = String(source['type'] ?? '');
    if (!isHostPathAllowed(path, this.host.allowedHostPaths)) {
      throw new ContainerConfigError(`volume ${volume}: hostPath ${path} is not under an --allow-host-path prefix of this node`);
    }
    if (NON_DIRECTORY_TYPES.has(type)) throw new ContainerConfigError(`volume ${volume}: hostPath type ${type}: only directories can be mounted into a Wasm container`);
    try {
      return allowedHostDir(path, this.host.allowedHostPaths, type !== 'Directory');
    } catch (error) {
      if (error instanceof UnsafePathError) throw new ContainerConfigError(`volume ${volume}: hostPath ${path}: ${error.message}`);
      throw error;
    }
  }

  /** The node directory of a claim's bound volume; throws VolumeNotReadyError while it is not bound. */
  #claimDir(volume: string, claim: string): string {
    const resolved = this.claims?.[volume];
    if (!resolved) throw new VolumeNotReadyError(`waiting for persistentvolumeclaim "${claim}" to be bound to a volume`);
    if (resolved.error || resolved.path === undefined) throw new ContainerConfigError(`volume ${volume}: ${resolved.error ?? `persistentvolume "${resolved.volumeName}" has no path`}`);
    const dir = volumeHostDir(resolved.path, this.host.dataDir, this.host.allowedHostPaths);
    if (typeof dir !== 'string') throw new ContainerConfigError(`volume ${volume}: persistentvolume "${resolved.volumeName}": ${dir.error}`);
    return dir;
  }

  #holdsSecrets(v: Obj): boolean {
    if (v['secret'] !== undefined) return true;
    const sources = ((v['projected'] as Obj | undefined)?.['sources'] as Obj[] | undefined) ?? [];
    return sources.some((s) => s['secret'] !== undefined || s['serviceAccountToken'] !== undefined);
  }

  /** The pod's projected ServiceAccount tokens: taken back from the volume after a restart, else requested. */
  async #ensureTokens(): Promise<void> {
    const wanted = tokenSources(this.pod);
    if (wanted.length === 0) return;
    const config = this.host.serviceAccountTokens;
    if (!config) throw new ContainerConfigError('this agent cannot request ServiceAccount tokens for projected volumes');
    const pod = this.pod;
    this.#tokens ??= new ProjectedTokens(pod, {
      source: config.source, clock: config.clock,
      onRotated: (volumes) => this.#track(this.#rewrite(volumes)),
      onError: (error) => config.onError?.(this.pod, error),
    });
    for (const t of wanted) {
      const file = resolve(this.host.memoryDir, pod.metadata.uid!, t.volume, t.path);
      const token = await readFile(file, 'utf8').catch(() => undefined);
      if (token) this.#tokens.adopt(t.volume, t.path, token);
    }
    try {
      await this.#tokens.ensure();
      this.#tokensOffline = false;
    } catch (error) {
      // an answer (ServiceAccount missing, refused) makes the pod wait, as the kubelet's mount does;
      // no answer at all (offline) does not stop it: the token follows when the API is back
      if (!(error instanceof TokenRequestError) || error.statusCode !== undefined) throw new VolumeNotReadyError(`failed to fetch token: ${(error as Error).message}`);
      this.#tokensOffline = true;
      config.onError?.(pod, error);
    }
  }

  /** Rewrites the files of these volumes (rotated tokens). */
  async #rewrite(volumes: Set<string>): Promise<void> {
    for (const volume of this.pod.spec.volumes ?? []) {
      if (this.#closed) return;
      const dir = volumes.has(volume.name) ? this.#dirs.get(volume.name) : undefined;
      const files = dir ? this.#files(volume, true) : undefined;
      if (dir && files) await writeFiles(dir, files);
    }
  }

  #isReadOnlySource(name: string): boolean {
    const v = (this.pod.spec.volumes ?? []).find((x) => x.name === name) as Obj | undefined;
    if ((v?.['persistentVolumeClaim'] as Obj | undefined)?.['readOnly'] === true) return true;
    return !!v && ['configMap', 'secret', 'downwardAPI', 'projected'].some((k) => v[k] !== undefined);
  }

  /** The files of a file-backed volume; undefined for other kinds. `lenient`: missing sources give no files instead of throwing. */
  #files(v: Obj, lenient: boolean): FileSource[] | undefined {
    const ns = this.pod.metadata.namespace ?? 'default';
    const fromData = (what: string, name: string, data: Map<string, Buffer> | undefined, items: Obj[] | undefined, optional: boolean): FileSource[] => {
      if (!data) {
        if (optional || lenient) return [];
        throw new ContainerConfigError(`${what} "${name}" not found`);
      }
      if (!items) return [...data].map(([key, bytes]) => ({ path: key, data: bytes }));
      return items.map((item) => {
        const bytes = data.get(String(item['key']));
        if (!bytes) throw new ContainerConfigError(`${what} ${name}: no key ${String(item['key'])}`);
        return { path: String(item['path']), data: bytes };
      });
    };
    const configMap = (src: Obj) => fromData('configmap', String(src['name']), this.config?.configMap(ns, String(src['name'])), src['items'] as Obj[] | undefined, src['optional'] === true);
    const secret = (src: Obj, nameField: string) => fromData('secret', String(src[nameField]), this.config?.secret(ns, String(src[nameField])), src['items'] as Obj[] | undefined, src['optional'] === true);
    const downward = (src: Obj) => ((src['items'] as Obj[] | undefined) ?? []).map((item) => ({
      path: String(item['path']), data: Buffer.from(this.#fieldValue(String((item['fieldRef'] as Obj | undefined)?.['fieldPath'] ?? ''))),
    }));
    if (v['configMap']) return configMap(v['configMap'] as Obj);
    if (v['secret']) return secret(v['secret'] as Obj, 'secretName');
    if (v['downwardAPI']) return downward(v['downwardAPI'] as Obj);
    if (v['projected']) {
      return (((v['projected'] as Obj)['sources'] as Obj[] | undefined) ?? []).flatMap((s) => {
        if (s['configMap']) return configMap(s['configMap'] as Obj);
        if (s['secret']) return secret(s['secret'] as Obj, 'name');
        if (s['downwardAPI']) return downward(s['downwardAPI'] as Obj);
        if (s['serviceAccountToken']) {
          const path = String((s['serviceAccountToken'] as Obj)['path'] ?? 'token');
          const token = this.#tokens?.get(String(v['name']), path);
          if (token === undefined && !lenient && !this.#tokensOffline) throw new VolumeNotReadyError(`no ServiceAccount token for ${String(v['name'])}/${path} yet`);
          return token === undefined ? [] : [{ path, data: Buffer.from(token) }];
        }
        return []; // clusterTrustBundle: nothing to project on a Wasm node
      });
    }
    return undefined;
  }

  #fieldValue(path: string): string {
    const m = this.pod.metadata;
    const lines = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n');
    switch (path) {
      case 'metadata.name': return m.name ?? '';
      case 'metadata.namespace': return m.namespace ?? '';
      case 'metadata.uid': return m.uid ?? '';
      case 'metadata.labels': return lines(m.labels);
      case 'metadata.annotations': return lines(m.annotations);
      case 'spec.nodeName': return this.facts.nodeName;
      case 'status.podIP': return this.facts.podIP ?? '';
      default: {
        const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
        if (label) return m.labels?.[label[1]!] ?? '';
        throw new ContainerConfigError(`downwardAPI: unsupported fieldPath ${path}`);
      }
    }
  }
}

const isQuantity = (value: unknown): boolean => {
  try {
    return Number.isFinite(parseBytes(String(value)));
  } catch {
    return false;
  }
};

/** Writes each file atomically (temp + rename) and removes files no longer projected. */
async function writeFiles(dir: string, files: FileSource[]): Promise<void> {
  const wanted = new Set<string>();
  for (const f of files) {
    const target = resolve(dir, f.path);
    if (relative(dir, target).startsWith('..') || isAbsolute(f.path)) throw new ContainerConfigError(`file path ${f.path} leaves its volume`);
    wanted.add(relative(dir, target).split(sep)[0]!);
    await mkdir(resolve(target, '..'), { recursive: true });
    await writeFile(`${target}.skiff-tmp`, f.data, { mode: 0o644 });
    await rename(`${target}.skiff-tmp`, target);
  }
  for (const entry of await readdir(dir)) {
    if (!wanted.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}
