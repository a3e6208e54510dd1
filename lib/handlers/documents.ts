import { parseIfMatch, type Documents } from '../app/documents.ts';
import { parseJsonBody } from '../http/form.ts';
import { documentParam } from '../http/params.ts';
import { json } from '../http/response.ts';
import { audited, documentChangeAudit } from './audit.ts';
import { runtime } from './runtime.ts';
import { scopedHandler, tenantReads } from './scope.ts';

/** `GET` (list) and `POST` (create) on `/v1/tenants/{tenant}/<documents>`, `trust:admin` of that tenant only. */
export function documentCollectionHandler(docs: Documents) {
  return scopedHandler({ methods: ['GET', 'POST'], scope: 'trust:admin', tenant: 'path' }, async (event, caller) => {
    const { adminDeps: shared, audit, directory } = runtime();
    const adminDeps = { ...shared, ...tenantReads(caller) };
    const { tenant } = caller;
    if (event.requestContext.http.method === 'POST') {
      const created = await audited(audit, documentChangeAudit(docs, 'create', caller), () =>
        docs.create(adminDeps, tenant, parseJsonBody(event)).finally(() => directory.invalidate(tenant)),
      );
      return json(201, created, { ETag: `"${created.version}"` });
    }
    return json(200, { items: await docs.list(adminDeps, tenant) });
  });
}

/** `GET`, `PUT` and `DELETE` on `/v1/tenants/{tenant}/<documents>/{id}`; writes need `If-Match`. */
export function documentItemHandler(docs: Documents) {
  return scopedHandler({ methods: ['GET', 'PUT', 'DELETE'], scope: 'trust:admin', tenant: 'path' }, async (event, caller) => {
    const { adminDeps: shared, audit, directory } = runtime();
    const adminDeps = { ...shared, ...tenantReads(caller) };
    const { tenant } = caller;
    const id = documentParam(event, docs.idPattern, docs.label);
    const method = event.requestContext.http.method;
    if (method === 'GET') {
      const found = await docs.get(adminDeps, tenant, id);
      return json(200, found, { ETag: `"${found.version}"` });
    }
    const version = parseIfMatch(event.headers?.['if-match']);
    if (method === 'DELETE') {
      // Dropped after the write (even a failed one, which may have landed): dropped before it, a
      // concurrent request could re-read and cache the old document for the whole cache bound.
      await audited(audit, documentChangeAudit(docs, 'delete', caller), () =>
        docs
          .remove(adminDeps, tenant, id, version)
          .finally(() => directory.invalidate(tenant))
          .then(() => ({ id, version })),
      );
      return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
    }
    const updated = await audited(audit, documentChangeAudit(docs, 'replace', caller), () =>
      docs.replace(adminDeps, tenant, id, parseJsonBody(event), version).finally(() => directory.invalidate(tenant)),
    );
    return json(200, updated, { ETag: `"${updated.version}"` });
  });
}
