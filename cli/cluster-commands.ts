// `skiff up`, `skiff control-plane` and `skiff agent`: the long-running subcommands.
import { readFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { leaveIdleMode } from './agent-jit.js';
import { parseCount, parseEgressCidr, parseIp, parseIpv4Cidr, parseMaskSize, parseLabels, parseMemorySize, parseMeshMode, parseMqttUrl, parsePort, parseSeconds } from './flags.js';
import { DEFAULT_TUNNEL_PORT } from '../agent/network/tunnel-protocol.js';
import type { MeshMode } from '../agent/network/mesh.js';
import { createLogger } from './logger.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE } from '../api/pod-addresses.js';

// Each action imports what it runs only when it runs: `skiff agent` on a small device must never
// load the control plane (hono, aedes, the store, the API's schemas), ~35 MB of heap and code.

export const DEFAULT_DATA_DIR = '.skiff';

/**
 * Runs until SIGINT/SIGTERM, then stops `stoppers` in order and exits 0; if stopping takes longer
 * than `graceMs`, exits 1 then (as the kubelet's SIGKILL would after terminationGracePeriodSeconds).
 */
function untilSignal(logger: Logger, stoppers: Array<() => Promise<void>>, graceMs = DEFAULT_SHUTDOWN_GRACE_SECONDS * 1000): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.error({ graceMs }, 'did not stop within the grace period; exiting');
      process.exit(1);
    }, graceMs).unref();
    void (async () => {
      for (const stop of stoppers) await stop().catch((e: Error) => logger.warn({ err: e.message }, 'error while stopping'));
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;

interface TolerationFlags {
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
}

const tolerationSeconds = (opts: TolerationFlags) => ({
  notReady: opts.defaultNotReadyTolerationSeconds,
  unreachable: opts.defaultUnreachableTolerationSeconds,
});

interface RegistryFlags {
  registryCa: string[];
  insecureRegistry: string[];
}

const collect = (value: string, all: string[]) => [...all, value];

/** How the control plane reaches OCI registries: extra CAs read from files, plain-HTTP hosts. */
async function registryTransport(opts: RegistryFlags) {
  return {
    caCerts: await Promise.all(opts.registryCa.map((f) => readFile(f, 'utf8'))),
    insecureRegistries: opts.insecureRegistry,
  };
}

function registryOptions(command: Command): Command {
  return command
    .option('--registry-ca <file>', 'a CA certificate (PEM) to trust for OCI registries, besides the system roots (repeatable)', collect, [] as string[])
    .option('--insecure-registry <host:port>', 'an OCI registry reached over plain HTTP (repeatable; lab registries only)', collect, [] as string[]);
}

interface IngressFlags {
  ingressPort?: number;
  ingressTlsPort?: number;
}

function ingressOptions(command: Command): Command {
  return command
    .option('--ingress-port <port>', 'serve Ingresses (IngressClass skiff, the default) over HTTP on this port of the API address (0 = any free port)', parsePort)
    .option('--ingress-tls-port <port>', 'serve Ingresses over HTTPS on this port, certificates by SNI from their TLS Secrets (needs --ingress-port)', parsePort);
}

function ingressOf(opts: IngressFlags) {
  if (opts.ingressTlsPort !== undefined && opts.ingressPort === undefined) throw new Error('--ingress-tls-port needs --ingress-port');
  return opts.ingressPort === undefined ? {} : { ingress: { port: opts.ingressPort, ...(opts.ingressTlsPort !== undefined ? { tlsPort: opts.ingressTlsPort } : {}) } };
}

interface PodCidrFlags {
  clusterCidr: string;
  nodeCidrMaskSize: number;
}

/** --cluster-cidr and --node-cidr-mask-size, as kube-controller-manager has them. */
function podCidrOptions(command: Command): Command {
  return command
    .option('--cluster-cidr <cidr>', 'the pod network: each node gets a block of it as its pod CIDR (IPv4, /8 or longer)', parseIpv4Cidr, DEFAULT_CLUSTER_CIDR)
    .option('--node-cidr-mask-size <bits>', 'prefix length of each node\'s pod CIDR (at most 16 bits longer than --cluster-cidr\'s, at most 30)', parseMaskSize, DEFAULT_NODE_CIDR_MASK_SIZE);
}

const podCidrsOf = (opts: PodCidrFlags) => ({ podCidrs: { clusterCidr: opts.clusterCidr, nodeCidrMaskSize: opts.nodeCidrMaskSize } });

const ingressLine = (cp: { ingress?: { httpPort: number; httpsPort?: number } }, host: string) =>
  cp.ingress ? ` Ingress http://${host}:${cp.ingress.httpPort}${cp.ingress.httpsPort !== undefined ? ` and https://${host}:${cp.ingress.httpsPort}` : ''}.` : '';

export function registerClusterCommands(program: Command): void {
  podCidrOptions(ingressOptions(registryOptions(program.command('up'))))
    .description('run an all-in-one cluster: control plane, embedded MQTT broker and local agents')
    .option('--data-dir <dir>', 'where state, certificates, tokens and the kubeconfig live', DEFAULT_DATA_DIR)
    .option('--api-port <port>', 'HTTPS API port (0 = any free port)', parsePort, 6443)
    .option('--api-host <host>', 'address the API listens on', '127.0.0.1')
    .option('--mqtt-port <port>', 'embedded MQTT broker port, mqtts:// (0 = any free port; default 8883, 1883 with --insecure-mqtt)', parsePort)
    .option('--mqtt-host <host>', 'address the embedded broker listens on', '127.0.0.1')
    .option('--insecure-mqtt', 'the embedded broker speaks plain mqtt:// (credentials and Secrets in clear; remote agents then need --insecure-mqtt)')
    .option('--agents <n>', 'local agents to start, each its own node with its own loopback address (127.0.0.2, 127.0.0.3, ...)', parseCount, 1)
    .option('--store <url>', 'sqlite (default) or etcd://HOST:PORT', 'sqlite')
    .option('--default-not-ready-toleration-seconds <s>', 'tolerationSeconds of the not-ready toleration added to every pod', parseSeconds, 300)
    .option('--default-unreachable-toleration-seconds <s>', 'tolerationSeconds of the unreachable toleration added to every pod', parseSeconds, 300)
    .option('--default-memory-limit <size>', 'memory limit of a container that sets none (default 256Mi)', parseMemorySize)
    .option('--allocatable-memory <size>', 'memory each local agent\'s pods may request and use together (default: the machine\'s allocatable memory shared by the agents)', parseMemorySize)
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'warn')
    .action(async (opts: { dataDir: string; apiPort: number; apiHost: string; mqttPort?: number; mqttHost: string; insecureMqtt?: boolean; agents: number; store: string; defaultMemoryLimit?: number; allocatableMemory?: number; logLevel: string } & TolerationFlags & RegistryFlags & IngressFlags & PodCidrFlags) => {
      const logger = createLogger(opts.logLevel);
      const dataDir = resolve(opts.dataDir);
      const { startLocalCluster } = await import('./local-cluster.js');
      const { pushExamples } = await import('./examples.js');
      const cluster = await startLocalCluster({
        dataDir, logger, agents: opts.agents, loopbackNodeIPs: true, storeUrl: opts.store,
        apiHost: opts.apiHost, apiPort: opts.apiPort, mqttHost: opts.mqttHost, mqttPort: opts.mqttPort ?? (opts.insecureMqtt ? 1883 : 8883),
        mqttTls: !opts.insecureMqtt,
        defaultTolerationSeconds: tolerationSeconds(opts), registries: await registryTransport(opts), ...ingressOf(opts), ...podCidrsOf(opts),
        // every agent serves the same Ingress ports on its own loopback address too (decision 075)
        ...(ingressOf(opts).ingress ? { agentIngress: ingressOf(opts).ingress } : {}),
        ...(opts.defaultMemoryLimit !== undefined ? { agentDefaultMemoryLimitBytes: opts.defaultMemoryLimit } : {}),
        ...(opts.allocatableMemory !== undefined ? { agentAllocatableMemoryBytes: opts.allocatableMemory } : {}),
      });
      untilSignal(logger, [() => cluster.stop()]);
      const cp = cluster.cp;
      const pushed = await pushExamples(cp.registry);
      const { buildAndPushExamples, unbuiltExamples } = await import('./example-builds.js');
      const unbuilt = await unbuiltExamples();
      const building = unbuilt.length ? ` (building ${unbuilt.join(', ')} in the background: pushed when built)` : '';
      process.stdout.write(`skiff is ready: ${opts.agents} node(s), API ${cp.apiUrl}, MQTT ${cp.mqttUrl}, ${pushed.length} example components pushed${building}.${ingressLine(cp, opts.apiHost)} ` +
        `Use it with: export KUBECONFIG=${cp.kubeconfigPath}; kubectl get nodes. ` +
        `Join more agents with: ${agentCommand(cp.mqttUrl, dataDir)}\n`);
      void buildAndPushExamples(cp.registry, unbuilt, (line) => process.stdout.write(`${line}\n`));
    });

  podCidrOptions(ingressOptions(registryOptions(program.command('control-plane'))))
    .description('run the control plane alone (agents join with `skiff agent`)')
    .option('--data-dir <dir>', 'where state, certificates, tokens and the kubeconfig live', DEFAULT_DATA_DIR)
    .option('--api-port <port>', 'HTTPS API port', parsePort, 6443)
    .option('--api-host <host>', 'address the API listens on', '127.0.0.1')
    .option('--advertise-host <host>', 'name or address agents and users reach the API at (added to the certificate)')
    .addOption(new Option('--mqtt-port <port>', 'run the embedded broker on this port').argParser(parsePort).conflicts('mqttUrl'))
    .option('--mqtt-host <host>', 'address the embedded broker listens on', '127.0.0.1')
    .addOption(new Option('--mqtt-tls', 'the embedded broker speaks mqtts:// with a certificate from the cluster CA (the default; agents need --ca-file DATA_DIR/ca.crt)').conflicts('mqttUrl'))
    .addOption(new Option('--insecure-mqtt', 'the embedded broker speaks plain mqtt:// (credentials and Secrets in clear; agents then need --insecure-mqtt)').conflicts(['mqttUrl', 'mqttTls']))
    .addOption(new Option('--mqtt-url <url>', 'use an external broker (mosquitto, EMQX) instead').argParser(parseMqttUrl))
    .option('--mqtt-username <name>', 'the control plane\'s username on the external broker (one topic level for mosquitto)')
    .option('--mosquitto-password-file <path>', 'mosquitto password file the control plane rewrites as node credentials are issued')
    .option('--mosquitto-pid-file <path>', 'mosquitto pid file: SIGHUP after each rewrite (mosquitto re-reads passwords and ACL)')
    .option('--store <url>', 'sqlite (default) or etcd://HOST:PORT', 'sqlite')
    .option('--default-not-ready-toleration-seconds <s>', 'tolerationSeconds of the not-ready toleration added to every pod', parseSeconds, 300)
    .option('--default-unreachable-toleration-seconds <s>', 'tolerationSeconds of the unreachable toleration added to every pod', parseSeconds, 300)
    .option('--shutdown-grace-period <s>', 'after SIGTERM/SIGINT, exit (code 1) if stopping takes longer than this', parseSeconds, DEFAULT_SHUTDOWN_GRACE_SECONDS)
    .option('--ingress-keys-to-agents', 'send the TLS keys of skiff Ingresses to agents started with --ingress-tls-port (off: they serve TLS with a default certificate; any node could claim a TLS port)')
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .action(async (opts: { ingressKeysToAgents?: boolean; dataDir: string; apiPort: number; apiHost: string; advertiseHost?: string; mqttPort?: number; mqttHost: string; mqttTls?: boolean; insecureMqtt?: boolean; mqttUrl?: string; mqttUsername?: string; mosquittoPasswordFile?: string; mosquittoPidFile?: string; store: string; shutdownGracePeriod: number; logLevel: string } & TolerationFlags & RegistryFlags & IngressFlags & PodCidrFlags) => {
      const logger = createLogger(opts.logLevel);
      const external = opts.mqttUrl ? {
        url: opts.mqttUrl,
        ...(opts.mqttUsername ? { username: opts.mqttUsername } : {}),
        ...(opts.mosquittoPasswordFile ? { mosquitto: { passwordFile: resolve(opts.mosquittoPasswordFile), ...(opts.mosquittoPidFile ? { pidFile: resolve(opts.mosquittoPidFile) } : {}) } } : {}),
      } : undefined;
      const { startControlPlane } = await import('../control-plane/control-plane.js');
      const { pushExamples } = await import('./examples.js');
      const cp = await startControlPlane({
        dataDir: resolve(opts.dataDir), logger, storeUrl: opts.store, apiHost: opts.apiHost, apiPort: opts.apiPort,
        ...(opts.advertiseHost ? { advertiseHosts: [opts.advertiseHost] } : {}),
        mqtt: external ?? { host: opts.mqttHost, port: opts.mqttPort ?? (opts.insecureMqtt ? 1883 : 8883), ...(opts.insecureMqtt ? {} : { tls: true }) },
        defaultTolerationSeconds: tolerationSeconds(opts), registries: await registryTransport(opts), ...ingressOf(opts), ...podCidrsOf(opts),
        ...(opts.ingressKeysToAgents ? { ingressKeysToAgents: true } : {}),
      });
      untilSignal(logger, [() => cp.stop()], opts.shutdownGracePeriod * 1000);
      await pushExamples(cp.registry);
      process.stdout.write(`skiff control plane is ready: API ${cp.apiUrl}, MQTT ${cp.mqttUrl}.${ingressLine(cp, opts.apiHost)} ` +
        `Join agents with: ${agentCommand(cp.mqttUrl, resolve(opts.dataDir))}; ` +
        `use kubectl with: export KUBECONFIG=${cp.kubeconfigPath}\n`);
    });

  program.command('agent')
    .description('run one edge agent that joins a cluster over MQTT')
    .requiredOption('--server <url>', 'the MQTT broker, mqtts://HOST:PORT (mqtt://HOST:PORT in the clear needs --insecure-mqtt)', parseMqttUrl)
    .option('--insecure-mqtt', 'accept a plain mqtt:// server: this node\'s credential and its pods\' Secrets cross the network in clear (trusted links only)')
    .option('--ca-file <file>', 'the CA (PEM) an mqtts:// broker\'s certificate must chain to: the control plane\'s DATA_DIR/ca.crt')
    .requiredOption('--token <token>', 'the node bootstrap token (DATA_DIR/node-token of the control plane), exchanged once for this node\'s own credential')
    .requiredOption('--name <name>', 'this node\'s name (unique in the cluster)')
    .option('--data-dir <dir>', 'where the agent caches components', join(DEFAULT_DATA_DIR, 'agent'))
    .option('--labels <k=v,...>', 'extra node labels', parseLabels)
    .option('--tunnel-port <port>', 'port of this node\'s tunnel on --node-ip: pods of other nodes reach this node\'s pods through it (mutual TLS with node certificates; 0 = any free port)', parsePort, DEFAULT_TUNNEL_PORT)
    .option('--mesh <mode>', 'how pods reach pods of other nodes: auto (direct through their tunnels, by relay through the control plane when one cannot be reached), direct, relay', parseMeshMode, 'auto')
    .option('--node-ip <ip>', 'this node\'s address: reported as its InternalIP; NodePorts, LoadBalancer ports and hostPorts listen on it (default 127.0.0.1)', parseIp)
    .option('--ingress-port <port>', 'serve Ingresses (IngressClass skiff) over HTTP on this port of --node-ip, routed to their Services as NodePorts are; keeps working while the control plane is away (0 = any free port)', parsePort)
    .option('--ingress-tls-port <port>', 'serve Ingresses over HTTPS on this port of --node-ip, certificates by SNI from their TLS Secrets (sent to this node only then)', parsePort)
    .option('--allow-host-path <prefix>', 'allow hostPath volumes under this directory (repeatable)', (v: string, all: string[]) => [...all, resolve(v)], [] as string[])
    .option('--allow-egress <cidr>', 'let pods reach these addresses out of the cluster without a NetworkPolicy allowing it (repeatable; default none: egress out of the cluster is denied)', parseEgressCidr, [] as string[])
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port too (they are always reachable through the API server at /api/v1/nodes/NAME/proxy/metrics)', parsePort)
    .option('--metrics-address <ip>', 'address of the --metrics-port listener (default 127.0.0.1; any other needs --metrics-token-file)')
    .option('--metrics-token-file <file>', 'bearer token the --metrics-port listener requires')
    .option('--warm-workers <n>', 'idle worker threads kept ready for fast starts while the node has pods (default 1; each costs ~12 MB)', parseCount)
    .option('--default-memory-limit <size>', 'memory limit of a container that sets none (default 256Mi)', parseMemorySize)
    .option('--allocatable-memory <size>', 'memory the node\'s pods may request and use together (default: the device\'s memory less a quarter, at least 256Mi, for the system)', parseMemorySize)
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .action(async (opts: { server: string; token: string; name: string; dataDir: string; labels?: Record<string, string>; nodeIp?: string; allowHostPath: string[]; allowEgress: string[]; warmWorkers?: number; defaultMemoryLimit?: number; allocatableMemory?: number; logLevel: string; metricsPort?: number; metricsAddress?: string; metricsTokenFile?: string; caFile?: string; insecureMqtt?: boolean; tunnelPort: number; mesh: MeshMode; ingressPort?: number; ingressTlsPort?: number }) => {
      const logger = createLogger(opts.logLevel);
      const mqttCa = opts.caFile ? await readFile(opts.caFile, 'utf8') : undefined;
      const { startAgent } = await import('../agent/main.js');
      const metricsToken = opts.metricsTokenFile ? (await readFile(opts.metricsTokenFile, 'utf8')).trim() : undefined;
      if (opts.metricsTokenFile && !metricsToken) throw new Error(`--metrics-token-file ${opts.metricsTokenFile} is empty`);
      if (opts.metricsPort === undefined && (opts.metricsAddress || opts.metricsTokenFile)) throw new Error('--metrics-address and --metrics-token-file need --metrics-port');
      const agent = await startAgent({
        server: opts.server, token: opts.token, name: opts.name, dataDir: resolve(opts.dataDir), logger,
        ...(mqttCa ? { mqttCa } : {}),
        ...(opts.insecureMqtt ? { insecureMqtt: true } : {}),
        allowedHostPaths: opts.allowHostPath,
        ...(opts.allowEgress.length ? { egress: { allow: opts.allowEgress } } : {}),
        onPodsDesired: (hasPods) => {
          if (hasPods) leaveIdleMode(); // idle tuning until now (agent-jit.ts)
        },
        ...(opts.warmWorkers !== undefined ? { warmWorkers: opts.warmWorkers } : {}),
        ...(opts.defaultMemoryLimit !== undefined ? { defaultMemoryLimitBytes: opts.defaultMemoryLimit } : {}),
        ...(opts.allocatableMemory !== undefined ? { allocatableMemoryBytes: opts.allocatableMemory } : {}),
        ...(opts.labels ? { labels: opts.labels } : {}),
        ...(opts.nodeIp ? { nodeIP: opts.nodeIp } : {}),
        tunnelPort: opts.tunnelPort,
        meshMode: opts.mesh,
        ...(opts.ingressPort !== undefined || opts.ingressTlsPort !== undefined ? {
          ingress: { ...(opts.ingressPort !== undefined ? { port: opts.ingressPort } : {}), ...(opts.ingressTlsPort !== undefined ? { tlsPort: opts.ingressTlsPort } : {}) },
        } : {}),
        ...(opts.metricsPort !== undefined ? {
          metricsServer: { port: opts.metricsPort, ...(opts.metricsAddress ? { host: opts.metricsAddress } : {}), ...(metricsToken ? { token: metricsToken } : {}) },
        } : {}),
      });
      untilSignal(logger, [() => agent.stop()]);
      logger.info({ node: opts.name }, 'agent started');
    });
}

/** The command a remote agent joins with (the embedded broker's CA file when it speaks mqtts://). */
function agentCommand(mqttUrl: string, dataDir: string): string {
  const security = mqttUrl.startsWith('mqtts:') ? `--ca-file ${join(dataDir, 'ca.crt')}` : '--insecure-mqtt';
  return `skiff agent --server ${mqttUrl} ${security} --token $(cat ${join(dataDir, 'node-token')}) --name NAME`;
}
