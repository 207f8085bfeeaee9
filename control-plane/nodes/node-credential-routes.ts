// HTTPS side of the node credential exchange (api/mqtt/node-credential.ts). Who may call them is the
// authorizers' business (api/authorization): the bootstrap token may only POST, admins may do both.
//   POST   /skiff/v1/node-credentials/NODE  (bootstrap token)  -> 201 { node, credential }, 409 if it has one
//   DELETE /skiff/v1/node-credentials/NODE  (admin)            -> 200 { node, revoked }
import type { Hono } from 'hono';
import { InvalidNodeNameError, NodeCredentialExistsError, type NodeCredentials } from './node-credentials.js';

export function mountNodeCredentialRoutes(app: Hono, credentials: NodeCredentials): void {
  app.post('/skiff/v1/node-credentials/:node', async (c) => {
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
    const node = c.req.param('node');
    return c.json({ node, revoked: await credentials.revoke(node) }, 200);
  });
}
