// The control plane, wired: store -> resources -> HTTPS API (+ registry), MQTT broker (embedded or
// external) -> node channel -> node registry, pod status sink, desired-state publisher, scheduler,
// node lifecycle. `startControlPlane` is what `skiff up` and `skiff control-plane` run.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../api/clock.js';
import { systemClock } from '../api/clock.js';
import { createApiApp } from './api/api-app.js';
import { startApiServer } from './api/api-server.js';
import { writeKubeconfig } from './api/kubeconfig.js';
import { ensureTls } from './api/tls.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import { CONTROL_PLANE_MQTT_USER, ensureCredentials } from './credentials.js';
import { EventRecorder } from './events/event-recorder.js';
import { MqttNodeChannel } from './node-channel/mqtt-node-channel.js';
import { DesiredPublisher } from './nodes/desired-publisher.js';
import { NodeLifecycle } from './nodes/node-lifecycle.js';
import { NodeRegistry } from './nodes/node-registry.js';
import { PodLogSourceOverChannel } from './nodes/pod-log-source.js';
import { PodStatusSink } from './nodes/pod-status-sink.js';
import { ComponentRegistry } from './registry/component-registry.js';
import { nodeCredentialGuard } from './registry/node-credential-guard.js';
import { mountRegistryRoutes } from './registry/registry-routes.js';
import { ensureInitialNamespaces } from './resources/initial-namespaces.js';
import { ResourceStore } from './resources/resource-store.js';
import { Scheduler } from './scheduler/scheduler.js';
import { openStore } from './store/open-store.js';

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
  mqtt: { host: string; port: number } | { url: string };
  clock?: Clock;
  nodeMonitorGracePeriodMs?: number;
}

export interface RunningControlPlane {
  apiUrl: string;
  mqttUrl: string;
  kubeconfigPath: string;
  adminToken: string;
  nodeToken: string;
  caCert: string;
  registry: ComponentRegistry;
  resources: ResourceStore;
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { dataDir, logger } = options;
  const clock = options.clock ?? systemClock;
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of stack.reverse()) await Promise.resolve(step()).catch((e: Error) => logger.warn({ err: e.message }, 'stop step failed'));
    stack.length = 0;
  };
  try {
    const credentials = await ensureCredentials(dataDir);
    const store = await openStore(options.storeUrl ?? 'sqlite', dataDir);
    stack.push(() => store.close());
    const resources = new ResourceStore(store, { clock });
    await ensureInitialNamespaces(resources);

    const apiHost = options.apiHost ?? '127.0.0.1';
    const tls = await ensureTls(dataDir, { hosts: ['127.0.0.1', 'localhost', apiHost, ...(options.advertiseHosts ?? [])] });

    let broker: EmbeddedBroker | undefined;
    let mqttUrl: string;
    if ('url' in options.mqtt) {
      mqttUrl = options.mqtt.url;
    } else {
      broker = await startEmbeddedBroker({
        host: options.mqtt.host,
        port: options.mqtt.port,
        logger,
        authenticator: (username, password) => {
          if (username === CONTROL_PLANE_MQTT_USER) return password === credentials.controlPlaneMqttPassword ? { kind: 'control-plane' } : undefined;
          return password === credentials.nodeToken ? { kind: 'node', node: username } : undefined;
        },
      });
      stack.push(() => broker!.close());
      mqttUrl = broker.url;
    }

    const registry = new ComponentRegistry(store, join(dataDir, 'blobs'));
    const events = new EventRecorder(resources, clock, logger.child({ component: 'events' }));
    const epoch = randomUUID();
    let logSource: PodLogSourceOverChannel | undefined;
    const app = createApiApp({
      resources,
      clock,
      logger,
      tokens: (token) => {
        if (token === credentials.adminToken) return { name: 'admin', groups: ['system:masters'] };
        if (token === credentials.nodeToken) return { name: 'system:node-bootstrap', groups: ['system:nodes'] };
        return undefined;
      },
      podLogs: { stream: (pod, opts, write, signal) => logSource!.stream(pod, opts, write, signal) },
      extraRoutes: (api) => {
        api.use('*', nodeCredentialGuard);
        mountRegistryRoutes(api, registry);
      },
    });
    const server = await startApiServer({ app, host: apiHost, port: options.apiPort ?? 6443, tls: { key: tls.key, cert: tls.cert } });
    stack.push(() => server.close());
    const publicHost = options.advertiseHosts?.[0] ?? (apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost);
    const apiUrl = `https://${publicHost}:${server.port}`;

    const channel = new MqttNodeChannel({
      url: mqttUrl,
      username: CONTROL_PLANE_MQTT_USER,
      password: credentials.controlPlaneMqttPassword,
      epoch,
      registryUrl: apiUrl,
      caCert: tls.caCert,
      logger: logger.child({ component: 'node-channel' }),
      clock,
    });
    logSource = new PodLogSourceOverChannel(channel);
    const nodes = new NodeRegistry(resources, events, clock, logger.child({ component: 'nodes' }));
    const podSink = new PodStatusSink(resources, events, logger.child({ component: 'pod-status' }));
    const report = (what: string) => (error: Error) => logger.warn({ err: error.message }, `could not apply ${what}`);
    await channel.start({
      presence: (node, m) => void nodes.presence(node, m).catch(report('presence')),
      nodeStatus: (node, m) => void nodes.nodeStatus(node, m).catch(report('node status')),
      lease: (node, m) => void nodes.lease(node, m).catch(report('lease')),
      podStatus: (node, m) => void podSink.podStatus(node, m).catch(report('pod status')),
      event: (node, m) => podSink.event(node, m),
    });
    stack.push(() => channel.stop());

    const publisher = new DesiredPublisher({ resources, channel, registry, registryUrl: apiUrl, cpEpoch: epoch, clock, logger: logger.child({ component: 'desired' }) });
    await publisher.start();
    stack.push(() => publisher.stop());
    const scheduler = new Scheduler({ resources, events, clock, logger: logger.child({ component: 'scheduler' }) });
    scheduler.start();
    stack.push(() => scheduler.stop());
    const lifecycle = new NodeLifecycle({ resources, registry: nodes, clock, logger, gracePeriodMs: options.nodeMonitorGracePeriodMs ?? 40_000 });
    lifecycle.start();
    stack.push(() => lifecycle.stop());

    const kubeconfigPath = join(dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server: apiUrl, caCert: tls.caCert, token: credentials.adminToken, clusterName: 'skiff' });
    logger.info({ apiUrl, mqttUrl, kubeconfigPath }, 'control plane started');
    return {
      apiUrl, mqttUrl, kubeconfigPath, registry, resources,
      adminToken: credentials.adminToken, nodeToken: credentials.nodeToken, caCert: tls.caCert,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
