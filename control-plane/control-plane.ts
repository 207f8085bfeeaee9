// The control plane, wired: store -> resources -> HTTPS API (+ registry), MQTT broker (embedded or
// external) -> node channel -> node registry, pod status sink, desired-state publisher, scheduler,
// node lifecycle. `startControlPlane` is what `skiff up` and `skiff control-plane` run.
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { createApiApp } from './api/api-app.js';
import { ApiFlowControl } from './api/flow-control.js';
import { startApiServer } from './api/api-server.js';
import { writeKubeconfig } from './api/kubeconfig.js';
import { ensureTls } from './api/tls.js';
import { startWorkerBroker, type WorkerBroker } from './broker/worker-broker.js';
import { syncMosquittoCredentials, type MosquittoCredentialFiles } from './broker/mosquitto-credential-sync.js';
import { brokerCredentialChange, brokerCredentialEntries, clusterTokenAuthenticator, CONTROL_PLANE_MQTT_USER, ensureCredentials } from './credentials.js';
import { EventRecorder } from './events/event-recorder.js';
import { MqttNodeChannel } from './node-channel/mqtt-node-channel.js';
import { DesiredPublisher } from './nodes/desired-publisher.js';
import { mountNodeCredentialRoutes } from './nodes/node-credential-routes.js';
import { mountRelayRoutes } from './nodes/relay-routes.js';
import { PeerDirectory } from './nodes/peer-directory.js';
import { mountPeerRoutes } from './nodes/peer-routes.js';
import { mountRelayStreamRoutes } from './nodes/relay-stream-routes.js';
import { mountRelayUdpRoutes } from './nodes/relay-udp-routes.js';
import { NodeCredentials } from './nodes/node-credentials.js';
import { controlPlaneAddresses, NodeCertificateIssuer } from './nodes/node-certificates.js';
import { OWNER_SYNC_INTERVAL_MS, startControllers } from './controllers/controller-manager.js';
import { AnnotationPodMetricsSource, FallbackPodMetricsSource } from './controllers/hpa/pod-metrics.js';
import { ControlPlaneMetrics } from './metrics/control-plane-metrics.js';
import { NodeMetricsStore } from './metrics/node-metrics-store.js';
import { NodeMetricsScraperOverChannel } from './nodes/node-metrics-scraper.js';
import { DashboardSessions } from './dashboard/dashboard-sessions.js';
import { NodeLifecycle } from './nodes/node-lifecycle.js';
import { NodeRegistry } from './nodes/node-registry.js';
import { PodCidrAllocator, podCidrSettingsProblem, type PodCidrSettings } from './nodes/pod-cidr-allocator.js';
import { PodLogSourceOverChannel } from './nodes/pod-log-source.js';
import { PodExecSourceOverChannel } from './nodes/pod-exec-source.js';
import { PodStatusSink } from './nodes/pod-status-sink.js';
import { ComponentRegistry } from './registry/component-registry.js';
import { ImageResolver } from './registry/image-resolver.js';
import { OciPuller } from './registry/oci/oci-puller.js';
import type { RegistryTransport } from './registry/oci/registry-http.js';
import { mountRegistryRoutes } from './registry/registry-routes.js';
import { ensureInitialNamespaces, ensureSystemPriorityClasses } from './resources/initial-namespaces.js';
import { SharedInformers } from './reconcile/shared-informers.js';
import { ensureKubernetesService } from './resources/kubernetes-service.js';
import { ResourceStore } from './resources/resource-store.js';
import { ensureDefaultStorageClass } from './resources/storage-classes.js';
import { ensureBootstrapRbac } from './resources/rbac-bootstrap.js';
import { ensureIngressClass, IngressController } from './ingress/ingress-controller.js';
import { startIngress, type IngressOptions, type RunningIngress } from './ingress/ingress-start.js';
import { RbacCache } from './api/authorization/rbac/rbac-cache.js';
import { loadSigningKey, serviceAccountTokens } from './api/service-account-tokens.js';
import { AuditLog } from './api/audit-log.js';
import type { TokenAuthenticator } from './api/auth.js';
import { encryptSecretsAtRest, ensureEncryptionKey } from './resources/secret-encryption.js';
import { Scheduler } from './scheduler/scheduler.js';
import { openStore } from './store/open-store.js';
import type { Node } from '../api/types/node.js';
import { resourceTypes } from './resources/resource-types.js';

export interface ControlPlaneOptions {
  dataDir: string;
  logger: Logger;
  /** `sqlite` (default, DATA_DIR/state.db), `sqlite://PATH` or `etcd://HOST:PORT[,...]` */
  storeUrl?: string;
  apiHost?: string;
  /** 0 = any free port */
  apiPort?: number;
  /** Extra names/addresses for the serving certificate (what remote agents and users dial). */
  advertiseHosts?: string[];
  /** The embedded broker on this host/port, or an external broker at `mqttUrl`. */
  /** `tls`: the embedded broker speaks mqtts:// with the API's certificate (agents verify it with DATA_DIR/ca.crt). */
  mqtt: { host: string; port: number; tls?: boolean } | {
    url: string;
    /** The control plane's MQTT username on an external broker (mosquitto needs one topic level). */
    username?: string;
    /** mosquitto: the password file the control plane rewrites (and reloads) as node credentials are issued. */
    mosquitto?: MosquittoCredentialFiles;
  };
  clock?: Clock;
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorCheckIntervalMs?: number;
  /** How long a node lease renewal may wait in memory before its Lease is written (decision 058; default 20 s). */
  nodeLeaseFlushIntervalMs?: number;
  /** Nodes per second and zone given the NoExecute taint when not Ready (Kubernetes: --node-eviction-rate, default 0.1; decision 070). */
  nodeEvictionRate?: number;
  /** tolerationSeconds given to every pod for node.kubernetes.io/not-ready and /unreachable (default 300). */
  defaultTolerationSeconds?: { notReady: number; unreachable: number };
  /** --cluster-cidr and --node-cidr-mask-size: the blocks nodes get as pod CIDRs (default 10.42.0.0/16 in /24s). */
  podCidrs?: PodCidrSettings;
  /** How the control plane reaches OCI registries it pulls components from (extra CAs, plain-HTTP registries). */
  registries?: RegistryTransport;
  /** Serve Ingresses (IngressClass `skiff`) on these ports; absent: no gateway. */
  ingress?: IngressOptions;
  /** Send the TLS keys of skiff's Ingresses to agents that serve an Ingress TLS port (decision 075; default off). */
  ingressKeysToAgents?: boolean;
}

export interface RunningControlPlane {
  apiUrl: string;
  mqttUrl: string;
  kubeconfigPath: string;
  adminToken: string;
  nodeToken: string;
  /** Bearer token of the monitoring identity: GET /metrics and nodes' proxy/metrics, nothing else. */
  metricsToken: string;
  caCert: string;
  /** The control plane's Prometheus registry (what GET /metrics serves). */
  prometheus: ControlPlaneMetrics;
  registry: ComponentRegistry;
  resources: ResourceStore;
  nodeCredentials: NodeCredentials;
  /** Embedded broker only: closes it and starts it again on the same port (fault drills, tests), after `whileDown` when given. */
  restartBroker?(whileDown?: () => Promise<void>): Promise<void>;
  /** Embedded broker only: its worker thread (fault drills: `kill`, `restarts`). */
  broker?: Pick<WorkerBroker, 'kill' | 'restarts' | 'port'>;
  /** The Ingress gateway, when `ingress` was given. */
  ingress?: RunningIngress;
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { dataDir, logger } = options;
  const cidrProblem = podCidrSettingsProblem(options.podCidrs ?? {});
  if (cidrProblem) throw new Error(cidrProblem);
  const clock = options.clock ?? systemClock;
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of stack.reverse()) await Promise.resolve(step()).catch((e: Error) => logger.warn({ err: e.message }, 'stop step failed'));
    stack.length = 0;
  };
  try {
    const credentials = await ensureCredentials(dataDir);
    const storeUrl = options.storeUrl ?? 'sqlite';
    const prometheus = new ControlPlaneMetrics({ storeBackend: storeUrl.startsWith('etcd://') ? 'etcd' : 'sqlite' });
    const store = await openStore(storeUrl, dataDir, { observer: prometheus.store });
    stack.push(() => store.close());
    // Secrets are sealed with the data dir's key before they reach the store (encryption at rest).
    const encryptionKey = await ensureEncryptionKey(dataDir);
    const resources = new ResourceStore(encryptSecretsAtRest(store, encryptionKey), {
      clock,
      ...(options.defaultTolerationSeconds ? { defaultTolerationSeconds: options.defaultTolerationSeconds } : {}),
    });
    await ensureInitialNamespaces(resources);
    await ensureSystemPriorityClasses(resources);
    await ensureDefaultStorageClass(resources);
    await ensureBootstrapRbac(resources);
    await ensureIngressClass(resources);
    const rbac = new RbacCache(resources, logger.child({ component: 'rbac' }));
    stack.push(() => rbac.stop());
    await rbac.start();
    const nodeCredentials = await NodeCredentials.open(store);

    const apiHost = options.apiHost ?? '127.0.0.1';
    const mqttHost = 'url' in options.mqtt ? [] : [options.mqtt.host];
    const tls = await ensureTls(dataDir, { hosts: ['127.0.0.1', 'localhost', apiHost, ...mqttHost, ...(options.advertiseHosts ?? [])] });

    let broker: WorkerBroker | undefined;
    let mqttUrl: string;
    let cpMqttUser = CONTROL_PLANE_MQTT_USER;
    if ('url' in options.mqtt) {
      mqttUrl = options.mqtt.url;
      cpMqttUser = options.mqtt.username ?? CONTROL_PLANE_MQTT_USER;
      const files = options.mqtt.mosquitto;
      if (files) {
        const sync = () => syncMosquittoCredentials(files, { [cpMqttUser]: credentials.controlPlaneMqttPassword }, credentials.nodeToken, nodeCredentials);
        await sync();
        const unsubscribe = nodeCredentials.onChange(() => sync().catch((e: Error) => logger.error({ err: e.message }, 'could not update mosquitto credentials')));
        stack.push(unsubscribe);
      }
    } else {
      // the broker runs on its own thread (decision 069); a node authenticates only with its own
      // credential, the bootstrap token only as the bootstrap user: the worker holds their hashes
      // (no fake clock here: restarting a dead broker thread is supervision in real time)
      const running = await startWorkerBroker({
        host: options.mqtt.host,
        port: options.mqtt.port,
        ...(options.mqtt.tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
        logger,
        logLevel: logger.level,
        credentials: brokerCredentialEntries(credentials, nodeCredentials),
      });
      broker = running;
      prometheus.countBrokerThread(() => running.busyMs(), () => running.memory());
      stack.push(() => running.close());
      // a credential works (or stops working) once the worker has it: issue() and revoke() wait for this
      stack.push(nodeCredentials.onChange((change) => running.update([brokerCredentialChange(change)])));
      mqttUrl = running.url;
    }

    const registry = new ComponentRegistry(store, join(dataDir, 'blobs'));
    const oci = new OciPuller({
      store, blobs: registry, transport: options.registries ?? {}, clock, logger: logger.child({ component: 'oci' }), observer: prometheus.oci,
      credentialKey: createHmac('sha256', encryptionKey).update('skiff oci credential fingerprints').digest(),
    });
    stack.push(() => oci.close());
    const events = new EventRecorder(resources, clock, logger.child({ component: 'events' }));
    const epoch = randomUUID();
    let logSource: PodLogSourceOverChannel | undefined;
    const metrics = new NodeMetricsStore(clock);
    let execSource: PodExecSourceOverChannel | undefined;
    let relayChannel: MqttNodeChannel | undefined;
    let peerDirectory: PeerDirectory | undefined;
    let nodeMetrics: NodeMetricsScraperOverChannel | undefined;
    const audit = new AuditLog(join(dataDir, 'audit'), { logger: logger.child({ component: 'audit' }) });
    stack.push(() => audit.flush());
    const saTokens = serviceAccountTokens({ keys: await loadSigningKey(dataDir), resources, clock });
    const clusterTokens = clusterTokenAuthenticator(credentials, nodeCredentials);
    const tokens: TokenAuthenticator = async (token) => (await clusterTokens(token)) ?? saTokens.authenticate(token);
    const certificateIssuer = new NodeCertificateIssuer(dataDir, controlPlaneAddresses([apiHost, ...mqttHost, ...(options.advertiseHosts ?? [])]));
    const app = createApiApp({
      resources,
      clock,
      logger,
      tokens,
      rbac,
      serviceAccountTokens: saTokens,
      audit,
      podLogs: { stream: (pod, opts, write, signal) => logSource!.stream(pod, opts, write, signal) },
      exec: () => execSource,
      metrics,
      observer: prometheus.api,
      flowControl: new ApiFlowControl(clock, {}, prometheus.flowControl),
      prometheus,
      nodeMetrics: { scrape: (node, signal) => nodeMetrics!.scrape(node, signal) },
      dashboard: new DashboardSessions(tokens, clock),
      extraRoutes: (api) => {
        mountNodeCredentialRoutes(api, nodeCredentials, certificateIssuer);
        mountRegistryRoutes(api, registry, oci);
        mountRelayRoutes(api, resources, () => relayChannel);
        mountRelayStreamRoutes(api, resources, () => relayChannel);
        mountRelayUdpRoutes(api, resources, () => relayChannel);
        mountPeerRoutes(api, { directory: () => peerDirectory, clusterCidr: new PodCidrAllocator(options.podCidrs ?? {}).clusterCidr, clock });
      },
    });
    const server = await startApiServer({ app, host: apiHost, port: options.apiPort ?? 6443, tls: { key: tls.key, cert: tls.cert, clientCa: tls.caCert } });
    stack.push(() => server.close());
    const publicHost = options.advertiseHosts?.[0] ?? (apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost);
    const apiUrl = `https://${publicHost}:${server.port}`;
    await ensureKubernetesService(resources, { host: publicHost, port: server.port });

    const channel = new MqttNodeChannel({
      url: mqttUrl,
      username: cpMqttUser,
      password: credentials.controlPlaneMqttPassword,
      epoch,
      registryUrl: apiUrl,
      caCert: tls.caCert,
      logger: logger.child({ component: 'node-channel' }),
      clock,
      observer: prometheus.channel,
      brokerInProcess: broker !== undefined, // no keepalive to the broker thread (decision 073)
    });
    logSource = new PodLogSourceOverChannel(channel);
    nodeMetrics = new NodeMetricsScraperOverChannel(channel);
    prometheus.countNodes(async () => (await resources.list<Node>(resourceTypes.nodes)).items);
    execSource = new PodExecSourceOverChannel(channel);
    relayChannel = channel;
    const nodes = new NodeRegistry(resources, events, clock, logger.child({ component: 'nodes' }), options.podCidrs,
      options.nodeLeaseFlushIntervalMs ? { flushIntervalMs: options.nodeLeaseFlushIntervalMs } : {});
    nodes.leases.start();
    stack.push(() => nodes.leases.stop()); // after the channel stops: the last renewals are written
    const podSink = new PodStatusSink(resources, events, logger.child({ component: 'pod-status' }));
    const report = (what: string) => (error: Error) => logger.warn({ err: error.message }, `could not apply ${what}`);
    await channel.start({
      presence: (node, m) => {
        // the node connected with its own credential: its exchange's retry key is spent (decision 067)
        if (m.online) void nodeCredentials.confirmReceived(node).catch(report('credential confirmation'));
        void nodes.presence(node, m).catch(report('presence'));
      },
      nodeStatus: (node, m) => void nodes.nodeStatus(node, m).catch(report('node status')),
      lease: (node, m) => void nodes.lease(node, m).catch(report('lease')),
      podStatus: (node, m) => void podSink.podStatus(node, m).catch(report('pod status')),
      event: (node, m) => void podSink.event(node, m).catch(report('event')),
      metrics: (node, m) => metrics.record(node, m),
    });
    stack.push(() => channel.stop());

    const images = new ImageResolver({ registry, oci, resources, registryUrl: apiUrl });
    // one cache per kind for the publisher, the scheduler, node lifecycle and every controller
    const informers = new SharedInformers({ resources, clock, logger: logger.child({ component: 'informers' }) });
    stack.push(() => informers.stop());
    const directory = new PeerDirectory();
    stack.push(directory.follow(informers.for<Node>(resourceTypes.nodes)));
    peerDirectory = directory;
    const publisher = new DesiredPublisher({ resources, channel, registry, images, cpEpoch: epoch, clock, logger: logger.child({ component: 'desired' }), queueObserver: prometheus.queues, informers, clusterCidr: new PodCidrAllocator(options.podCidrs ?? {}).clusterCidr,
      peersIntervalMs: 1_000, ingressKeysToNodes: options.ingressKeysToAgents === true }); // a join burst republishes the peers part (to every agent) once a second
    await publisher.start();
    stack.push(() => publisher.stop());
    const scheduler = new Scheduler({
      resources, events, clock, logger: logger.child({ component: 'scheduler' }), observer: prometheus.scheduler, queueObserver: prometheus.queues, informers,
    });
    scheduler.start();
    stack.push(() => scheduler.stop());
    const lifecycle = new NodeLifecycle({ resources, registry: nodes, clock, logger, informers, gracePeriodMs: options.nodeMonitorGracePeriodMs ?? 40_000,
      ...(options.nodeMonitorCheckIntervalMs ? { checkIntervalMs: options.nodeMonitorCheckIntervalMs } : {}) });
    lifecycle.start();
    stack.push(() => lifecycle.stop());
    const controllers = startControllers({
      resources, events, clock, logger: logger.child({ component: 'controllers' }), queueObserver: prometheus.queues, informers, rootCaCert: tls.caCert,
      ownerSyncIntervalMs: OWNER_SYNC_INTERVAL_MS,
      ...(options.nodeEvictionRate ? { nodeTaints: { nodeEvictionRate: options.nodeEvictionRate } } : {}),
      // reported usage first; the annotation for pods without a report (unmetered, tests)
      hpa: { metrics: new FallbackPodMetricsSource(metrics, new AnnotationPodMetricsSource()) },
    });
    stack.push(() => controllers.stop());
    const ingress = options.ingress ? await startIngress({
      ...options.ingress, host: options.ingress.host ?? apiHost, resources, events, clock, logger: logger.child({ component: 'ingress' }), source: () => execSource,
      tunnelCertificate: () => certificateIssuer.issueGateway(new Date(clock.now())), informers,
    }) : undefined;
    if (ingress) stack.push(() => ingress.stop());
    else {
      // no gateway here: the controller still gives Ingresses the addresses of the nodes that serve them (decision 075), and events
      const ingressController = new IngressController({ resources, events, clock, informers, logger: logger.child({ component: 'ingress' }) });
      ingressController.start();
      stack.push(() => ingressController.stop());
    }

    const kubeconfigPath = join(dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server: apiUrl, caCert: tls.caCert, token: credentials.adminToken, clusterName: 'skiff' });
    logger.info({ apiUrl, mqttUrl, kubeconfigPath }, 'control plane started');
    return {
      apiUrl, mqttUrl, kubeconfigPath, registry, resources, nodeCredentials,
      ...(broker ? { broker, restartBroker: broker.restart.bind(broker) } : {}),
      ...(ingress ? { ingress } : {}),
      adminToken: credentials.adminToken, nodeToken: credentials.nodeToken, metricsToken: credentials.metricsToken, caCert: tls.caCert, prometheus,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
