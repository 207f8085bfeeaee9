// system:masters may do anything (the real API server short-circuits this group before any other authorizer).
import { allow, noOpinion, type Authorizer } from './authorizer.js';

export const MASTERS_GROUP = 'system:masters';

export const privilegedGroupAuthorizer: Authorizer = {
  name: 'privileged-group',
  authorize: (a) => (a.user.groups?.includes(MASTERS_GROUP) ? allow() : noOpinion()),
};
