import { requestInfo } from '../lib/http/request-info.ts';
import { authorize } from '../lib/auth/bearer.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { tenantParam } from '../lib/http/params.ts';
import { json } from '../lib/http/response.ts';
import { revokeAccessToken } from '../lib/app/revoke.ts';
import { runtime } from '../lib/handlers/runtime.ts';

/**
 * POST /v1/tenants/{tenant}/revocations — revoke one of the tenant's access tokens: refused on its
 * next use in this container, within FEDBROKER_TENANT_CACHE_SECONDS in every other one.
 */
export const handler = httpHandler(
  async (event, context) => {
    const rt = runtime();
    const tenant = tenantParam(event);
    const admin = await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
    const result = await revokeAccessToken(
      { ...rt, issuer: rt.config.issuer, accessTokenMaxTtl: rt.config.tokens.accessTokenMaxTtl },
      tenant,
      parseJsonBody(event),
    );
    // Applied already (and idempotent): audited best effort, see AuditTrail.recordApplied.
    await rt.audit.recordApplied({
      event: 'token.revoke',
      outcome: 'success',
      tenant,
      trust: admin.trust,
      principal: admin.sub,
      jti: admin.jti,
      target: result.jti,
      ...requestInfo(event, context),
      ...(result.reason ? { reason: result.reason } : {}),
      detail: { revoked: result.revoked, ...(result.expires_at !== undefined ? { expires_at: result.expires_at } : {}) },
    });
    return json(200, result);
  },
  { methods: ['POST'] },
);
