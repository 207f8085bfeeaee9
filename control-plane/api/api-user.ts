// Who a request comes from, as authentication found it (Kubernetes' user.Info: name and groups).

export interface ApiUser {
  name: string;
  groups?: string[];
}

export const ANONYMOUS_USER = 'system:anonymous';
export const anonymousUser: ApiUser = { name: ANONYMOUS_USER, groups: ['system:unauthenticated'] };
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** An authenticated user as the authorizers see it: in system:authenticated, as every authenticator adds. */
export const withAuthenticatedGroup = (user: ApiUser): ApiUser =>
  ((user.groups ?? []).includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...(user.groups ?? []), AUTHENTICATED_GROUP] });
