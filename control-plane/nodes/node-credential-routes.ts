// HTTPS side of the node credential exchange (api/mqtt/node-credential.ts), mounted before the
// node credential guard:
//   POST   /skiff/v1/node-credentials/NODE  (bootstrap token)  -> 201 { node, credential }, 409 if it has one
//   DELETE /skiff/v1/node-credentials/NODE  (admin)            -> 200 { node, revoked }
import type { Hono } from 'hono';
import { ForbiddenError } from '../../api/errors.js';
import { InvalidNodeNameError, NodeCredentialExistsError, type NodeCredentials } from './node-credentials.js';

export const BOOTSTRAP_API_USER = 'system:node-bootstrap';

export function mountNodeCredentialRoutes(app: Hono, credentials: NodeCredentials): void {
  app.post('/skiff/v1/node-credentials/:node', async (c) => {
    const user = c.get('user');
    if (user.name !== BOOTSTRAP_API_USER && !user.groups?.includes('system:masters')) {
      throw new ForbiddenError(`User "${user.name}" cannot request node credentials: use the bootstrap token`);
    }
    const node = c.req.param('node');
    try {
      return c.json({ node, credential: await credentials.issue(node) }, 201);
    } catch (error) {
      if (error instanceof NodeCredentialExistsError) return c.json({ error: error.message }, 409);
      if (error instanceof InvalidNodeNameError) return c.json({ error: error.message }, 422);
      throw error;
    }
  });
  app.delete('/skiff/v1/node-credentials/:node', async (c) => {
    const user = c.get('user');
    if (!user.groups?.includes('system:masters')) throw new ForbiddenError(`User "${user.name}" cannot revoke node credentials`);
    const node = c.req.param('node');
    return c.json({ node, revoked: await credentials.revoke(node) }, 200);
  });
}
