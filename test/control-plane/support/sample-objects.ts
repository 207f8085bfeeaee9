// Minimal valid objects of the workload, service and config kinds, for tests.
import type { Deployment, Job } from '../../../control-plane/resources/kinds/workloads.js';
import type { Service } from '../../../control-plane/resources/kinds/services.js';

export function aDeployment(name: string, options: { replicas?: number; app?: string; image?: string; namespace?: string } = {}): Deployment {
  const app = options.app ?? name;
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: options.namespace ?? 'default' },
    spec: {
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image: options.image ?? 'registry.local/hello:1.0' }] } },
    },
  };
}

export function aJob(name: string, options: { restartPolicy?: 'Never' | 'OnFailure' } = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { containers: [{ name: 'main', image: 'registry.local/task:1.0' }], restartPolicy: options.restartPolicy ?? 'Never' } } },
  };
}

export function aService(name: string, spec: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
  };
}
