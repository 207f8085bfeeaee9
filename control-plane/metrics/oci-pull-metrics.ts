// Pull-through cache metrics: image resolutions by source (cache, registry, failed) and the layer
// bytes pulled from OCI registries.
import { Counter, type Registry } from 'prom-client';
import type { OciPullObserver } from '../registry/oci/oci-puller.js';

export function createOciPullMetrics(registry: Registry): OciPullObserver {
  const resolutions = new Counter({
    name: 'skiff_oci_resolutions_total', help: 'OCI image references resolved for pods, by source: the cache (no registry contact), the registry, or failed.',
    labelNames: ['source'], registers: [registry],
  });
  const layers = new Counter({ name: 'skiff_oci_layer_pulls_total', help: 'Component layers pulled from OCI registries, by result (ok, error).', labelNames: ['result'], registers: [registry] });
  const bytes = new Counter({ name: 'skiff_oci_pulled_bytes_total', help: 'Component bytes pulled from OCI registries (verified).', registers: [registry] });
  for (const source of ['cache', 'registry', 'failed']) resolutions.inc({ source }, 0);
  return {
    resolved: (source) => resolutions.inc({ source }),
    layerPulled(size, ok) {
      layers.inc({ result: ok ? 'ok' : 'error' });
      if (ok) bytes.inc(size);
    },
  };
}
