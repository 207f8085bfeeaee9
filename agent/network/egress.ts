// Egress out of the cluster: which outside addresses the agent lets pods reach without a
// NetworkPolicy saying so (--allow-egress CIDR, none by default), how outside names resolve (the
// agent's own resolver), and the request itself, sent through the agent's real network
// (node:http / node:https; TLS is the agent's, verified against the system's CAs, for a guest's
// https request). Whether a given pod may reach a given address is decided in node-network.ts.
import { lookup as dnsLookup } from 'node:dns/promises';
import { cidrContains, parseCidr, parseIP, CLUSTER_POD_CIDR, type Cidr } from '../../api/cidr.js';
import { PodNetworkError, type HttpRequest, type HttpResponse } from '../../runtime/pod-runtime.js';
import { sendOutside } from './egress-client.js';

export interface EgressOptions {
  /** CIDRs pods of this node may reach outside the cluster without a policy allowing it (`--allow-egress`). */
  allow?: readonly string[];
  /** Resolves an outside name to its addresses (default: the agent's resolver, dns.lookup). */
  lookup?: (name: string) => Promise<string[]>;
  /** Largest response body taken from outside (default 16 MiB, as a handler's). */
  maxResponseBytes?: number;
}

/** The default pod network, for agents whose control plane does not say its --cluster-cidr. */
export const DEFAULT_POD_CIDR: Cidr = parseCidr(CLUSTER_POD_CIDR)!;

/**
 * The pod network a desired state names (`clusterCidr`, the control plane's --cluster-cidr): the
 * default when absent or unreadable (an older control plane; a wrong value must not open egress).
 */
export function podNetworkOf(text: string | undefined): Cidr {
  const cidr = text === undefined ? undefined : parseCidr(text);
  return cidr && cidr.family === 4 && cidr.prefix >= 8 ? cidr : DEFAULT_POD_CIDR;
}

/** Whether `ip` is a pod address of the cluster (in `podNetwork`, 10.42.0.0/16 by default). */
export function isPodAddress(ip: string, podNetwork: Cidr = DEFAULT_POD_CIDR): boolean {
  const address = parseIP(ip);
  return Boolean(address && cidrContains(podNetwork, address));
}

async function systemLookup(name: string): Promise<string[]> {
  const answers = await dnsLookup(name, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

export class Egress {
  #allow: Cidr[] = [];
  #lookup: (name: string) => Promise<string[]> = systemLookup;
  #maxResponseBytes = 16 * 1024 * 1024;
  #apiServer: { host: string; port: number } | undefined;
  #clusterCA: string | undefined;

  constructor(options: EgressOptions = {}) {
    this.configure(options);
  }

  /** Sets the agent's egress options; throws for a CIDR that is not one. */
  configure(options: EgressOptions): void {
    this.#allow = (options.allow ?? []).map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`--allow-egress ${JSON.stringify(text)} is not a CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)`);
      return cidr;
    });
    if (options.lookup) this.#lookup = options.lookup;
    if (options.maxResponseBytes) this.#maxResponseBytes = options.maxResponseBytes;
  }

  /** Whether the agent allows egress to `ip` by itself (--allow-egress). */
  allows(ip: string): boolean {
    const address = parseIP(ip);
    return Boolean(address && this.#allow.some((cidr) => cidrContains(cidr, address)));
  }

  /** Whether the agent allows any egress by itself. */
  get allowsAny(): boolean {
    return this.#allow.length > 0;
  }

  /** The addresses of an outside name, by the agent's resolver; PodNetworkError('DNS-error') when it has none. */
  async lookup(name: string): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await this.#lookup(name);
    } catch (error) {
      throw new PodNetworkError('DNS-error', `lookup ${name}: ${(error as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'no such host' : (error as Error).message}`);
    }
    const valid = addresses.filter((a) => parseIP(a));
    if (valid.length === 0) throw new PodNetworkError('DNS-error', `lookup ${name}: no such host`);
    return valid;
  }

  /**
   * The API server as the control plane announced it (its URL, the CA of its certificate): the
   * `kubernetes` Service's endpoint pods may reach.
   */
  setApiServer(url: string, caCert: string | undefined): void {
    try {
      const parsed = new URL(url);
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      this.#apiServer = { host, port: Number(parsed.port || 443) };
    } catch {
      this.#apiServer = undefined;
    }
    if (caCert) this.#clusterCA = caCert;
  }

  /** Whether `ip`:`port` is the API server the control plane announced. */
  isApiServer(ip: string, port: number): boolean {
    return this.#apiServer !== undefined && this.#apiServer.host === ip && this.#apiServer.port === port;
  }

  /**
   * Sends `request` to `ip`:`port` through the agent's network; https verifies the server for
   * `servername` (else its address) against the system's CAs, or the cluster's with `clusterCA`.
   */
  send(ip: string, port: number, request: HttpRequest, timeoutMs: number, servername: string | undefined, options: { clusterCA?: boolean } = {}): Promise<HttpResponse> {
    const ca = options.clusterCA ? this.#clusterCA : undefined;
    return sendOutside({ ip, port, servername, maxResponseBytes: this.#maxResponseBytes, ...(ca ? { ca } : {}) }, request, timeoutMs);
  }
}
