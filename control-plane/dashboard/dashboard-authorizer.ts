// The dashboard's own pages (login form, page, script, stylesheet, sign-out) are reachable by anyone:
// the routes check the session themselves (dashboard-routes.ts). What the page reads goes through
// the API as the session's user, authorized like any other request.
import { allow, noOpinion, type Authorizer } from '../api/authorization/authorizer.js';

const PAGES: Record<string, ReadonlySet<string>> = {
  get: new Set(['/dashboard', '/dashboard/login', '/dashboard/app.js', '/dashboard/app.css']),
  post: new Set(['/dashboard/login', '/dashboard/logout']),
};

export const dashboardAuthorizer: Authorizer = {
  name: 'dashboard',
  authorize(a) {
    return a.kind === 'non-resource' && PAGES[a.verb]?.has(a.path) ? allow() : noOpinion();
  },
};
