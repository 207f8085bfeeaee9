// Multi-document YAML manifests of the workload, service and config kinds, as users apply them with kubectl.

export const appManifest = (image = 'registry.local/web:1.0', replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: ${image}
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, labels: {app: web}}
data: {LOG_LEVEL: info, MODE: edge}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret, labels: {app: web}}
stringData: {token: s3cr3t}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: registry.local/migrate:1.0}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agentd}
spec:
  selector: {matchLabels: {app: agentd}}
  template:
    metadata: {labels: {app: agentd}}
    spec:
      nodeSelector: {skiff.dev/edge: "true"}
      containers: [{name: agentd, image: registry.local/agentd:1.0}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: skiff}
spec: {controller: skiff.dev/ingress}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: skiff
  rules:
  - host: web.edge.local
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {role: client}}}]}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: data-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /var/lib/skiff/data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: Endpoints
metadata: {name: external-db}
subsets: [{addresses: [{ip: 10.0.0.5}], ports: [{port: 5432}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: external-db-1, labels: {kubernetes.io/service-name: external-db}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.5]}]
ports: [{port: 5432}]
`;

/** The kinds of appManifest() as kubectl prints them on apply, in order. */
export const appManifestObjects = [
  'deployment.apps/web', 'service/web', 'configmap/web-config', 'secret/web-secret', 'job.batch/migrate', 'daemonset.apps/agentd',
  'horizontalpodautoscaler.autoscaling/web', 'ingressclass.networking.k8s.io/skiff', 'ingress.networking.k8s.io/web',
  'networkpolicy.networking.k8s.io/web-only', 'serviceaccount/web', 'persistentvolume/data-pv', 'persistentvolumeclaim/data', 'storageclass.storage.k8s.io/fast',
  'endpoints/external-db', 'endpointslice.discovery.k8s.io/external-db-1',
];
