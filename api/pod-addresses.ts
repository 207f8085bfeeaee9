// Pod networking addresses: each node gets a /24 from the cluster CIDR, each pod an address in it.
// The node registry gives nodes their CIDR; the scheduler alone gives pods their address (as it binds
// them, or once their node has a CIDR), in this annotation, which the desired publisher hands to the
// agent and the agent reports back as status.podIP.

export const POD_IP_ANNOTATION = 'skiff.dev/pod-ip';

/** The cluster's pod network: node i gets 10.42.i.0/24 (as k3s does by default). */
export const podCidrForIndex = (index: number): string => `10.42.${index}.0/24`;

export function indexOfPodCidr(cidr: string | undefined): number | undefined {
  const m = cidr ? /^10\.42\.(\d+)\.0\/24$/.exec(cidr) : null;
  return m ? Number(m[1]) : undefined;
}

/** The lowest free index not used by any node (0..255), or undefined when the range is full. */
export function freePodCidrIndex(used: Iterable<string | undefined>): number | undefined {
  const taken = new Set<number>();
  for (const cidr of used) {
    const i = indexOfPodCidr(cidr);
    if (i !== undefined) taken.add(i);
  }
  for (let i = 1; i < 256; i++) if (!taken.has(i)) return i;
  return undefined;
}

/** The lowest free host address (.2 to .254) of a node's /24, or undefined when all are taken. */
export function freePodIP(cidr: string, used: Iterable<string | undefined>): string | undefined {
  const prefix = cidr.replace(/\.0\/24$/, '.');
  const taken = new Set(used);
  for (let host = 2; host < 255; host++) {
    const ip = `${prefix}${host}`;
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}
