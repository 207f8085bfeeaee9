// The authorizer interface and its union chain, as the real API server chains Node and RBAC: the first
// authorizer that allows or denies decides; when none has an opinion, the request is forbidden.
import type { RequestAttributes } from './request-attributes.js';

export type Decision =
  | { decision: 'allow'; reason?: string }
  | { decision: 'deny'; reason: string }
  | { decision: 'no-opinion'; reason?: string };

export interface Authorizer {
  readonly name: string;
  authorize(attributes: RequestAttributes): Decision | Promise<Decision>;
}

export const allow = (reason?: string): Decision => ({ decision: 'allow', ...(reason ? { reason } : {}) });
export const deny = (reason: string): Decision => ({ decision: 'deny', reason });
export const noOpinion = (reason?: string): Decision => ({ decision: 'no-opinion', ...(reason ? { reason } : {}) });

/** Asks each authorizer in turn; no-opinion reasons are joined so a 403 says who looked. */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    name: `union(${authorizers.map((a) => a.name).join(',')})`,
    async authorize(attributes) {
      const reasons: string[] = [];
      for (const authorizer of authorizers) {
        const d = await authorizer.authorize(attributes);
        if (d.decision !== 'no-opinion') return d;
        if (d.reason) reasons.push(d.reason);
      }
      return noOpinion(reasons.join('; ') || undefined);
    },
  };
}
