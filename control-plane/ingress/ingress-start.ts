// Starts skiff's Ingress gateway and its controller (`--ingress-port`, `--ingress-tls-port`).
import { generate } from 'selfsigned';
import type { Logger } from 'pino';
import type { Clock } from '../../api/clock.js';
import type { PodExecSource } from '../api/streams/exec-session.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { ResourceStore } from '../resources/resource-store.js';
import { IngressController } from './ingress-controller.js';
import { IngressGateway } from './ingress-gateway.js';
import type { TunnelCertificate } from './ingress-tunnel.js';
import type { SharedInformers } from '../reconcile/shared-informers.js';

export interface IngressOptions {
  /** HTTP port (0: any free port). */
  port: number;
  /** HTTPS port (SNI from the Ingresses' TLS Secrets); none: no HTTPS. */
  tlsPort?: number;
  /** Listen address (default: the API's). */
  host?: string;
}

export interface RunningIngress {
  /** Where HTTP and HTTPS are served (ports resolved). */
  httpPort: number;
  httpsPort?: number;
  /** Requests answered and upgrades carried through the nodes' tunnels, and both through port-forward streams. */
  carried: { readonly tunnel: number; readonly tunnelUpgrades: number; readonly stream: number };
  stop(): Promise<void>;
}

export async function startIngress(options: IngressOptions & {
  host: string; resources: ResourceStore; events: EventRecorder; clock: Clock; logger: Logger; source: () => PodExecSource | undefined;
  /** The gateway's client certificate for the agents' tunnels (decision 040); absent: port-forward streams only. */
  tunnelCertificate?: () => Promise<TunnelCertificate>;
  /** The control plane's shared informers: the gateway reads Services, Endpoints, Pods and Nodes from them. */
  informers?: SharedInformers;
}): Promise<RunningIngress> {
  // the certificate for names no Ingress covers, as ingress-nginx's "fake certificate"
  const fake = await generate([{ name: 'commonName', value: 'skiff ingress default certificate' }], { keyType: 'ec', algorithm: 'sha256' });
  const gateway = new IngressGateway({
    resources: options.resources, source: options.source, host: options.host, port: options.port,
    ...(options.tlsPort !== undefined ? { tlsPort: options.tlsPort } : {}),
    defaultCert: { cert: fake.cert, key: fake.private }, logger: options.logger, clock: options.clock,
    ...(options.tunnelCertificate ? { tunnelCertificate: options.tunnelCertificate } : {}),
    ...(options.informers ? { informers: options.informers } : {}),
  });
  await gateway.start();
  const address = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const controller = new IngressController({ resources: options.resources, events: options.events, clock: options.clock, logger: options.logger }, gateway, address);
  controller.start();
  return {
    httpPort: gateway.addresses.http!.port,
    carried: gateway.carried,
    ...(gateway.addresses.https ? { httpsPort: gateway.addresses.https.port } : {}),
    stop: async () => {
      controller.stop();
      await gateway.stop();
    },
  };
}
