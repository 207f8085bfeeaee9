// TypeScript shapes of networking.k8s.io/v1 Ingress and IngressClass: in api/ because the Ingress
// routing (api/ingress/ingress-router.ts) is shared by the control plane's gateway and the agents.
import type { KubeObject } from './meta.js';

export interface IngressBackend {
  service?: { name: string; port?: { name?: string; number?: number } };
  resource?: { apiGroup?: string; kind: string; name: string };
}

export interface IngressRule {
  host?: string;
  http?: { paths: Array<{ path?: string; pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific'; backend: IngressBackend }> };
}

export interface Ingress extends KubeObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'Ingress';
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    tls?: Array<{ hosts?: string[]; secretName?: string }>;
    rules?: IngressRule[];
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
}

export interface IngressClass extends KubeObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'IngressClass';
  spec?: { controller?: string; parameters?: { apiGroup?: string; kind: string; name: string; scope?: string; namespace?: string } };
}
