// HTTPS side of the node credential exchange (api/mqtt/node-credential.ts). Who may call them is the
// authorizers' business (api/authorization): the bootstrap token may only POST, admins may do both;
// a node may ask for its own certificate only.
//   POST   /skiff/v1/node-credentials/NODE {retryKey?} (bootstrap token) -> 201 { node, credential }, 409 if it
//          has one (unless retryKey is the key of the exchange that made it: decision 067)
//   DELETE /skiff/v1/node-credentials/NODE  (admin)            -> 200 { node, revoked }
//   POST   /skiff/v1/node-certificates/NODE {ips} (the node)   -> 201 { node, cert, key, caCert, notAfter }
import type { Hono } from 'hono';
import * as v from 'valibot';
import { nodeCredentialRequest } from '../../api/mqtt/node-credential.js';
import { isValidNodeName } from '../broker/broker-acl.js';
import { InvalidNodeNameError, NodeCredentialExistsError, type NodeCredentials } from './node-credentials.js';
import { InvalidCertificateRequestError, requestedIPs, type NodeCertificateIssuer } from './node-certificates.js';

/** Largest certificate request body (bytes). */
const MAX_CERT_REQUEST_BYTES = 4096;
/** Largest credential request body (bytes): `{"retryKey": ...}` and some whitespace. */
const MAX_CREDENTIAL_REQUEST_BYTES = 1024;

export function mountNodeCredentialRoutes(app: Hono, credentials: NodeCredentials, certificates?: NodeCertificateIssuer): void {
  app.post('/skiff/v1/node-credentials/:node', async (c) => {
    const node = c.req.param('node');
    const invalid = (field: string, message: string) => c.json({ error: message, causes: [{ field, message }] }, 422);
    const text = await c.req.text();
    if (text.length > MAX_CREDENTIAL_REQUEST_BYTES) return invalid('body', `the request is larger than ${MAX_CREDENTIAL_REQUEST_BYTES} bytes`);
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return invalid('body', 'the request is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('body', 'the request must be a JSON object');
    const request = v.safeParse(nodeCredentialRequest, body);
    if (!request.success) {
      const issue = request.issues[0];
      return invalid(issue.path?.map((p) => String(p.key)).join('.') || 'body', issue.message);
    }
    try {
      const retryKey = request.output.retryKey;
      return c.json({ node, credential: await credentials.issue(node, retryKey !== undefined ? { retryKey } : {}) }, 201);
    } catch (error) {
      if (error instanceof NodeCredentialExistsError) return c.json({ error: error.message }, 409);
      if (error instanceof InvalidNodeNameError) {
        return c.json({ error: error.message, causes: (error.reasons.length ? error.reasons : [error.message]).map((message) => ({ field: 'node', message })) }, 422);
      }
      throw error;
    }
  });
  app.delete('/skiff/v1/node-credentials/:node', async (c) => {
    const node = c.req.param('node');
    return c.json({ node, revoked: await credentials.revoke(node) }, 200);
  });
  app.post('/skiff/v1/node-certificates/:node', async (c) => {
    const node = c.req.param('node');
    const invalid = (field: string, message: string) => c.json({ error: message, causes: [{ field, message }] }, 422);
    if (!certificates) return c.json({ error: 'this control plane does not issue node certificates' }, 404);
    if (!isValidNodeName(node) || !credentials.has(node)) return invalid('node', `node ${JSON.stringify(node.slice(0, 100))} has no credential`);
    const text = await c.req.text();
    if (text.length > MAX_CERT_REQUEST_BYTES) return invalid('body', `the request is larger than ${MAX_CERT_REQUEST_BYTES} bytes`);
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return invalid('body', 'the request is not JSON');
    }
    try {
      const issued = await certificates.issue(node, requestedIPs(body));
      return c.json({ node, ...issued }, 201);
    } catch (error) {
      if (error instanceof InvalidCertificateRequestError) return invalid(error.field, error.message);
      throw error;
    }
  });
}
