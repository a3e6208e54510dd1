import type { Context } from 'aws-lambda';
import { requestInfo } from '../http/request-info.ts';
import { authorize } from '../auth/bearer.ts';
import { adminDeps, runtime } from './runtime.ts';
import { parseIfMatch, type Documents } from '../app/documents.ts';
import { parseJsonBody } from '../http/form.ts';
import { httpHandler, type HttpEvent } from '../http/handler.ts';
import { documentParam, tenantParam } from '../http/params.ts';
import { json } from '../http/response.ts';

async function authorized(event: HttpEvent, context: Context) {
  const rt = runtime();
  const tenant = tenantParam(event);
  const admin = await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
  // The audit record of a change: who made it (with which token) and from where.
  const change = (action: 'create' | 'replace' | 'delete', docs: Documents, target: string, detail?: Record<string, number>) =>
    rt.audit.recordApplied({
      event: `${docs.label.replaceAll(' ', '_') as 'trust_relationship' | 'identity_pool' | 'trust_anchor'}.${action}`,
      outcome: 'success',
      tenant,
      trust: admin.trust,
      principal: admin.sub,
      jti: admin.jti,
      target,
      ...requestInfo(event, context),
      ...(detail ? { detail } : {}),
    });
  return { rt, tenant, deps: adminDeps(rt), change };
}

/** `GET` (list) and `POST` (create) on `/v1/tenants/{tenant}/<documents>`, `trust:admin` of that tenant only. */
export function documentCollectionHandler(docs: Documents) {
  return httpHandler(
    async (event, context) => {
      const { rt, tenant, deps, change } = await authorized(event, context);
      if (event.requestContext.http.method === 'POST') {
        const created = await docs.create(deps, tenant, parseJsonBody(event)).finally(() => rt.directory.invalidate(tenant));
        await change('create', docs, created.id, { version: created.version });
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
    async (event, context) => {
      const { rt, tenant, deps, change } = await authorized(event, context);
      const id = documentParam(event, docs.idPattern, docs.label);
      const method = event.requestContext.http.method;
      if (method === 'GET') {
        const found = await docs.get(deps, tenant, id);
        return json(200, found, { ETag: `"${found.version}"` });
      }
      const version = parseIfMatch(event.headers?.['if-match']);
      if (method === 'DELETE') {
        // Dropped after the write (even a failed one, which may have landed): dropped before it, a
        // concurrent request could re-read and cache the old document for the whole cache bound.
        await docs.remove(deps, tenant, id, version).finally(() => rt.directory.invalidate(tenant));
        await change('delete', docs, id, { version });
        return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
      }
      const updated = await docs.replace(deps, tenant, id, parseJsonBody(event), version).finally(() => rt.directory.invalidate(tenant));
      await change('replace', docs, id, { version: updated.version });
      return json(200, updated, { ETag: `"${updated.version}"` });
    },
    { methods: ['GET', 'PUT', 'DELETE'] },
  );
}
