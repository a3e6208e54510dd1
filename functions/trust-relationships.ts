import { authorize } from '../lib/auth/bearer.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { tenantParam } from '../lib/http/params.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/runtime.ts';
import { createRelationship, listRelationships } from '../lib/tenants/admin.ts';

/** GET|POST /v1/tenants/{tenant}/trust-relationships */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const tenant = tenantParam(event);
    await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
    const admin = { store: rt.trustStore, clock: rt.clock, local: rt.config.local };
    if (event.requestContext.http.method === 'POST') {
      const created = await createRelationship(admin, tenant, parseJsonBody(event));
      rt.directory.invalidate(tenant);
      return json(201, created, { ETag: `"${created.version}"` });
    }
    return json(200, { items: await listRelationships(admin, tenant) });
  },
  { methods: ['GET', 'POST'] },
);
