import { authorize } from '../auth/bearer.ts';
import { adminDeps, runtime } from '../runtime.ts';
import { parseIfMatch, type Documents } from '../tenants/admin.ts';
import { parseJsonBody } from './form.ts';
import { httpHandler, type HttpEvent } from './handler.ts';
import { documentParam, tenantParam } from './params.ts';
import { json } from './response.ts';

async function authorized(event: HttpEvent) {
  const rt = runtime();
  const tenant = tenantParam(event);
  await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
  return { rt, tenant, deps: adminDeps(rt) };
}

/** `GET` (list) and `POST` (create) on `/v1/tenants/{tenant}/<documents>`, `trust:admin` of that tenant only. */
export function documentCollectionHandler(docs: Documents) {
  return httpHandler(
    async (event) => {
      const { rt, tenant, deps } = await authorized(event);
      if (event.requestContext.http.method === 'POST') {
        const created = await docs.create(deps, tenant, parseJsonBody(event));
        rt.directory.invalidate(tenant);
        return json(201, created, { ETag: `"${created.version}"` });
      }
      return json(200, { items: await docs.list(deps, tenant) });
    },
    { methods: ['GET', 'POST'] },
  );
}

/** `GET`, `PUT` and `DELETE` on `/v1/tenants/{tenant}/<documents>/{id}`; writes need `If-Match`. */
export function documentItemHandler(docs: Documents) {
  return httpHandler(
    async (event) => {
      const { rt, tenant, deps } = await authorized(event);
      const id = documentParam(event, docs.idPattern, docs.label);
      const method = event.requestContext.http.method;
      if (method === 'GET') {
        const found = await docs.get(deps, tenant, id);
        return json(200, found, { ETag: `"${found.version}"` });
      }
      const version = parseIfMatch(event.headers?.['if-match']);
      rt.directory.invalidate(tenant);
      if (method === 'DELETE') {
        await docs.remove(deps, tenant, id, version);
        return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
      }
      const updated = await docs.replace(deps, tenant, id, parseJsonBody(event), version);
      return json(200, updated, { ETag: `"${updated.version}"` });
    },
    { methods: ['GET', 'PUT', 'DELETE'] },
  );
}
