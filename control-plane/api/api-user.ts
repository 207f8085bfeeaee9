// Who a request comes from, as authentication found it (Kubernetes' user.Info: name and groups).

export interface ApiUser {
  name: string;
  groups?: string[];
}

export const ANONYMOUS_USER = 'system:anonymous';
export const anonymousUser: ApiUser = { name: ANONYMOUS_USER, groups: ['system:unauthenticated'] };
