import { encodeCursor, parseAuditQuery } from '../lib/audit/query.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { scopedHandler } from '../lib/handlers/scope.ts';
import { json } from '../lib/http/response.ts';

/** GET /v1/tenants/{tenant}/audit — the tenant's audit records in time order, `audit:read` of that tenant only. */
export const handler = scopedHandler({ methods: ['GET', 'HEAD'], scope: 'audit:read', tenant: 'path' }, async (event, caller) => {
  const { auditLog, clock } = runtime();
  const query = parseAuditQuery(event.queryStringParameters, clock.now());
  const { items, last } = await auditLog.query(caller.tenant, query);
  return json(200, { items, ...(last !== undefined ? { next_cursor: encodeCursor(last) } : {}) });
});
