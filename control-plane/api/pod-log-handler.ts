// GET pods/{name}/log: a text/plain stream from the PodLogSource, kept open while following.
import type { Context } from 'hono';
import { BadRequestError, ServiceUnavailableError } from '../../api/errors.js';
import type { Pod } from '../../api/types/pod.js';
import type { ApiDeps, PodLogOptions } from './api-deps.js';
import { isTrue, optionalInt } from './query-options.js';
import type { ResourceTarget } from './resource-path.js';

export async function streamPodLog(c: Context, deps: ApiDeps, t: ResourceTarget & { name: string }): Promise<Response> {
  const pod = await deps.resources.get<Pod>(t.type, t.namespace, t.name);
  const options: PodLogOptions = {
    container: pickContainer(pod, c.req.query('container') || undefined),
    follow: isTrue(c, 'follow'),
    tailLines: optionalInt(c, 'tailLines'),
    timestamps: isTrue(c, 'timestamps'),
    previous: isTrue(c, 'previous'),
    sinceSeconds: optionalInt(c, 'sinceSeconds'),
    limitBytes: optionalInt(c, 'limitBytes'),
  };
  const source = deps.podLogs;
  if (!source) throw new ServiceUnavailableError('pod logs are not available: no log source is configured');
  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  c.req.raw.signal.addEventListener('abort', onClientGone);
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (chunk: string) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(chunk));
      };
      const finish = () => {
        c.req.raw.signal.removeEventListener('abort', onClientGone);
        try { controller.close(); } catch { /* the client already went away */ }
      };
      source.stream(pod, options, write, abort.signal).then(finish, (err: unknown) => {
        deps.logger?.warn({ err, pod: t.name }, 'pod log stream failed');
        finish();
      });
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' } });
}

function pickContainer(pod: Pod, requested: string | undefined): string {
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
  if (requested) {
    if (!names.includes(requested)) throw new BadRequestError(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    return requested;
  }
  const preferred = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (preferred && names.includes(preferred)) return preferred;
  if (pod.spec.containers.length === 1) return pod.spec.containers[0]!.name;
  throw new BadRequestError(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${pod.spec.containers.map((c) => c.name).join(' ')}]`);
}
