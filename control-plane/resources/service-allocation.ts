// Cluster IP and node port allocation for Services, kept in the Store as one key per allocated value
// (`/registry/ranges/...`): create-if-absent makes two concurrent allocations of one value impossible.
import { ValidationError, type StatusCause } from '../../api/errors.js';
import { invalid } from './field-causes.js';
import type { Service, ServicePort } from './kinds/services.js';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type Store } from '../store/store.js';

export const defaultServiceCidr = '10.43.0.0/16';
export const nodePortRange = { min: 30000, max: 32767 } as const;

const ipPrefix = '/registry/ranges/serviceips/';
const portPrefix = '/registry/ranges/servicenodeports/';
const maxAttempts = 32;

interface Cidr { base: number; size: number; text: string }

function parseCidr(text: string): Cidr {
  const [addr, bitsText] = text.split('/');
  const base = ipToNumber(addr ?? '');
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`invalid service CIDR ${text}`);
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), size, text };
}

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! * 256 + parts[1]!) * 256 + parts[2]!) * 256 + parts[3]!;
}

const numberToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

const needsClusterIp = (svc: Service) => svc.spec?.type !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
const needsNodePorts = (svc: Service) =>
  svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);
const portKey = (p: ServicePort) => `${p.port}/${p.protocol ?? 'TCP'}`;
const ownerOf = (svc: Service) => `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;

/** What an update keeps from the stored Service when the body leaves it out (as the real server's patchAllocatedValues). */
export function carryOverAllocations(previous: Service, next: Service): void {
  const spec = next.spec;
  if (!spec || typeof spec !== 'object') return;
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else if (needsClusterIp(previous) && previous.spec.type !== 'ExternalName' && !spec.clusterIP && !spec.clusterIPs?.length) {
    spec.clusterIP = previous.spec.clusterIP;
    spec.clusterIPs = previous.spec.clusterIPs;
  }
  const oldPorts = new Map((previous.spec?.ports ?? []).map((p) => [portKey(p), p.nodePort]));
  if (needsNodePorts(previous) && !needsNodePorts(next)) {
    // Leaving NodePort/LoadBalancer drops the node ports the server allocated.
    for (const p of spec.ports ?? []) if (p.nodePort === oldPorts.get(portKey(p))) delete p.nodePort;
  } else if (needsNodePorts(next)) {
    for (const p of spec.ports ?? []) if (!p.nodePort && oldPorts.get(portKey(p))) p.nodePort = oldPorts.get(portKey(p));
  }
}

export interface Allocation {
  /** After the write succeeded: releases what `previous` held and the new object no longer uses. */
  commit(): Promise<void>;
  /** After the write failed: releases what this allocation reserved. */
  rollback(): Promise<void>;
}

export class ServiceAllocator {
  readonly #store: Store;
  readonly #cidr: Cidr;

  constructor(store: Store, cidr = defaultServiceCidr) {
    this.#store = store;
    this.#cidr = parseCidr(cidr);
  }

  /** Fills in and reserves the cluster IP and node ports `svc` needs (throws 422 on a taken or out-of-range value). */
  async reserve(svc: Service, previous: Service | undefined, dryRun = false): Promise<Allocation> {
    const owner = ownerOf(svc);
    const reserved: string[] = [];
    const reserve = async (key: string): Promise<boolean> => {
      if (dryRun) return !(await this.#takenByOther(key, owner));
      try {
        await this.#store.create(key, owner);
        reserved.push(key);
        return true;
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
        return !(await this.#takenByOther(key, owner));
      }
    };
    const rollback = async () => { for (const key of reserved) await this.#releaseKey(key, owner); };
    try {
      await this.#reserveClusterIp(svc, previous, reserve);
      await this.#reserveNodePorts(svc, previous, reserve);
    } catch (err) {
      await rollback();
      throw err;
    }
    return {
      rollback,
      commit: async () => {
        if (!previous || dryRun) return;
        const keep = new Set(this.#keysOf(svc));
        for (const key of this.#keysOf(previous)) if (!keep.has(key)) await this.#releaseKey(key, owner);
      },
    };
  }

  /** Frees everything a deleted Service held. */
  async release(svc: Service): Promise<void> {
    for (const key of this.#keysOf(svc)) await this.#releaseKey(key, ownerOf(svc));
  }

  #keysOf(svc: Service): string[] {
    const keys: string[] = [];
    const ip = svc.spec?.clusterIP;
    if (ip && ip !== 'None') keys.push(`${ipPrefix}${ip}`);
    for (const p of svc.spec?.ports ?? []) if (p.nodePort) keys.push(`${portPrefix}${p.nodePort}`);
    return keys;
  }

  async #reserveClusterIp(svc: Service, previous: Service | undefined, reserve: (key: string) => Promise<boolean>): Promise<void> {
    const spec = svc.spec;
    if (!needsClusterIp(svc)) return;
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested) {
      if (previous?.spec?.clusterIP === requested) return;
      const n = ipToNumber(requested);
      if (n === undefined || n <= this.#cidr.base || n >= this.#cidr.base + this.#cidr.size - 1) {
        throw rejected(svc, invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.#cidr.text}`));
      }
      if (!(await reserve(`${ipPrefix}${requested}`))) {
        throw rejected(svc, invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
      }
      spec.clusterIP = requested;
      spec.clusterIPs = [requested];
      return;
    }
    // Random picks skip .0, the first address (kept for the `kubernetes` service) and the broadcast address.
    const ip = await this.#pick(ipPrefix, (r) => numberToIp(this.#cidr.base + 2 + Math.floor(r * (this.#cidr.size - 3))), reserve);
    if (!ip) throw rejected(svc, invalid('spec.clusterIPs', [], `failed to allocate a serviceIP: range is full`));
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  async #reserveNodePorts(svc: Service, previous: Service | undefined, reserve: (key: string) => Promise<boolean>): Promise<void> {
    if (!needsNodePorts(svc)) return;
    const held = new Set((previous?.spec?.ports ?? []).map((p) => p.nodePort).filter(Boolean));
    const width = nodePortRange.max - nodePortRange.min + 1;
    for (const [i, p] of (svc.spec.ports ?? []).entries()) {
      if (p.nodePort) {
        if (held.has(p.nodePort)) continue;
        if (!(await reserve(`${portPrefix}${p.nodePort}`))) {
          throw rejected(svc, invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
        }
        continue;
      }
      const port = await this.#pick(portPrefix, (r) => String(nodePortRange.min + Math.floor(r * width)), reserve);
      if (!port) throw rejected(svc, invalid(`spec.ports[${i}].nodePort`, 0, 'failed to allocate a nodePort: range is full'));
      p.nodePort = Number(port);
    }
  }

  /** Random candidates first; after a few collisions, the lowest free value from a listing of the range. */
  async #pick(prefix: string, candidate: (r: number) => string, reserve: (key: string) => Promise<boolean>): Promise<string | undefined> {
    for (let i = 0; i < maxAttempts; i++) {
      const value = candidate(Math.random());
      if (await reserve(`${prefix}${value}`)) return value;
    }
    const used = new Set<string>();
    for (let page = await this.#store.list(prefix); ; page = await this.#store.list(prefix, { revision: page.revision, startKey: page.nextKey })) {
      for (const kv of page.items) used.add(kv.key.slice(prefix.length));
      if (!page.more) break;
    }
    for (let i = 0; i < 1_000_000; i++) {
      const value = candidate(i / 1_000_000);
      if (!used.has(value) && (await reserve(`${prefix}${value}`))) return value;
    }
    return undefined;
  }

  async #takenByOther(key: string, owner: string): Promise<boolean> {
    const kv = await this.#store.get(key);
    return kv !== undefined && kv.value !== owner;
  }

  async #releaseKey(key: string, owner: string): Promise<void> {
    const kv = await this.#store.get(key);
    if (!kv || kv.value !== owner) return;
    // A concurrent release of the same key is fine: it is free either way.
    await this.#store.delete(key, kv.modRevision).catch((err: unknown) => {
      if (!(err instanceof KeyNotFoundError) && !(err instanceof RevisionMismatchError)) throw err;
    });
  }
}

const rejected = (svc: Service, cause: StatusCause) => new ValidationError({ kind: 'Service', name: svc.metadata.name }, [cause]);
