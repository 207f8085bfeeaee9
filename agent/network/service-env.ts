// The environment variables the kubelet gives every container for the Services of its pod's
// namespace (with a ClusterIP), as `{SVC}_SERVICE_HOST`/`_PORT` and docker-link style `{SVC}_PORT_*`.
// The `kubernetes` Service of `default` is given to every pod; the others only while
// spec.enableServiceLinks is not false.
import type { DesiredService } from '../../api/mqtt/messages.js';

const envName = (name: string) => name.toUpperCase().replace(/-/g, '_');

export function serviceEnv(services: Iterable<DesiredService>, namespace: string, enableServiceLinks = true): Array<[string, string]> {
  const chosen = [...services]
    .filter((s) => s.clusterIP && s.clusterIP !== 'None' && s.ports.length > 0)
    .filter((s) => (enableServiceLinks && s.namespace === namespace) || (s.namespace === 'default' && s.name === 'kubernetes'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const env: Array<[string, string]> = [];
  for (const service of chosen) {
    const prefix = envName(service.name);
    const ip = service.clusterIP!;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const first = service.ports[0]!;
    env.push([`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(first.port)]);
    for (const port of service.ports) if (port.name) env.push([`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port)]);
    env.push([`${prefix}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${host}:${first.port}`]);
    for (const port of service.ports) {
      const protocol = port.protocol ?? 'TCP';
      const base = `${prefix}_PORT_${port.port}_${protocol}`;
      env.push([base, `${protocol.toLowerCase()}://${host}:${port.port}`], [`${base}_PROTO`, protocol.toLowerCase()], [`${base}_PORT`, String(port.port)], [`${base}_ADDR`, ip]);
    }
  }
  return env;
}
