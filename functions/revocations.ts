import { revokeAccessToken } from '../lib/app/revoke.ts';
import { audited, revocationAudit } from '../lib/handlers/audit.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { scopedHandler } from '../lib/handlers/scope.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { json } from '../lib/http/response.ts';

/**
 * POST /v1/tenants/{tenant}/revocations — revoke one of the tenant's access tokens: refused on its
 * next use in this container, within FEDBROKER_TENANT_CACHE_SECONDS in every other one.
 */
export const handler = scopedHandler({ methods: ['POST'], scope: 'trust:admin', tenant: 'path' }, async (event, caller) => {
  const { audit, revokeDeps } = runtime();
  const result = await audited(audit, revocationAudit(caller), () => revokeAccessToken(revokeDeps, caller.tenant, parseJsonBody(event)));
  return json(200, result);
});
