// A Deployment of the http-health example with one pod (named port `http` 8080, POD_NAME in its
// environment, a readiness probe): the backends of the Ingress e2e tests.
export const app = (name: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas: 1, selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [{
          name: 'main', image: 'examples/http-health:latest', ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2, timeoutSeconds: 10 },
        }],
      },
    },
  },
});
