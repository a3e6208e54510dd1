import { authorize } from '../lib/auth/bearer.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { relationshipParam, tenantParam } from '../lib/http/params.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/runtime.ts';
import { deleteRelationship, getRelationship, parseIfMatch, replaceRelationship } from '../lib/tenants/admin.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/trust-relationships/{id} — writes need If-Match. */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const tenant = tenantParam(event);
    const id = relationshipParam(event);
    await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
    const admin = { store: rt.trustStore, clock: rt.clock, local: rt.config.local };
    const method = event.requestContext.http.method;
    if (method === 'GET') {
      const found = await getRelationship(admin, tenant, id);
      return json(200, found, { ETag: `"${found.version}"` });
    }
    const version = parseIfMatch(event.headers?.['if-match']);
    rt.directory.invalidate(tenant);
    if (method === 'DELETE') {
      await deleteRelationship(admin, tenant, id, version);
      return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
    }
    const updated = await replaceRelationship(admin, tenant, id, parseJsonBody(event), version);
    return json(200, updated, { ETag: `"${updated.version}"` });
  },
  { methods: ['GET', 'PUT', 'DELETE'] },
);
