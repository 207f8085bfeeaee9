// wasi:sockets/ip-name-lookup for a guest: names are resolved by the pod network (the pod's DNS:
// Services, headless Services' pods, localhost) over the blocking bridge; IP literals answer
// themselves. Unknown names are `name-unresolvable`; without a pod network every lookup is a
// `permanent-resolver-failure`, as before.
import { isIP } from 'node:net';
import type { GuestControl } from '../wasi/guest-control.js';
import { Pollable } from '../wasi/io.js';
import { WasiError } from '../wasi/wasi-errors.js';
import type { GuestNet } from './guest-net.js';

type IpAddress = { tag: 'ipv4'; val: [number, number, number, number] } | { tag: 'ipv6'; val: number[] };

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export class ResolveAddressStream {
  #next = 0;
  constructor(
    private readonly addresses: IpAddress[],
    private readonly control: GuestControl,
  ) {}
  resolveNextAddress(): IpAddress | undefined {
    return this.addresses[this.#next++];
  }
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
}

export function createNameLookup(control: GuestControl, net: GuestNet | undefined) {
  return {
    ResolveAddressStream,
    resolveAddresses(_network: unknown, name: string): ResolveAddressStream {
      const literal = parseIp(name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
      if (literal) return new ResolveAddressStream([literal], control);
      const host = name.endsWith('.') ? name.slice(0, -1) : name;
      if (host.length === 0 || host.length > 253 || !host.split('.').every((label) => LABEL.test(label))) throw new WasiError('invalid-argument');
      if (!net) throw new WasiError('permanent-resolver-failure');
      const answer = net.resolve(host);
      if (!Array.isArray(answer)) throw new WasiError(answer.code === 'DNS-error' ? 'name-unresolvable' : 'permanent-resolver-failure');
      const addresses = answer.map(parseIp).filter((a): a is IpAddress => a !== undefined);
      if (addresses.length === 0) throw new WasiError('name-unresolvable');
      return new ResolveAddressStream(addresses, control);
    },
  };
}

/** An IP literal as wasi:sockets' ip-address, or undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { tag: 'ipv4', val: text.split('.').map(Number) as [number, number, number, number] };
  if (family !== 6) return undefined;
  let address = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    address = `${address.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = address.includes('::') ? address.split('::') as [string, string] : [address, undefined];
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const front = words(head);
  const back = tail === undefined ? [] : words(tail);
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length;
  return { tag: 'ipv6', val: [...front, ...new Array<number>(zeros).fill(0), ...back] };
}
