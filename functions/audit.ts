import { encodeCursor, parseAuditQuery } from '../lib/audit/query.ts';
import { authorize } from '../lib/auth/bearer.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { tenantParam } from '../lib/http/params.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/handlers/runtime.ts';

/** GET /v1/tenants/{tenant}/audit — the tenant's audit records in time order, `audit:read` of that tenant only. */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const tenant = tenantParam(event);
    await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'audit:read');
    const query = parseAuditQuery(event.queryStringParameters, rt.clock.now());
    const { items, last } = await rt.auditLog.query(tenant, query);
    return json(200, { items, ...(last !== undefined ? { next_cursor: encodeCursor(last) } : {}) });
  },
  { methods: ['GET', 'HEAD'] },
);
