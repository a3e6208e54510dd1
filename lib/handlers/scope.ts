import type { RequestInfo } from '../app/record-exchange.ts';
import { authenticate, authorize } from '../auth/bearer.ts';
import { httpHandler, type HttpEvent } from '../http/handler.ts';
import { tenantParam } from '../http/params.ts';
import { requestInfo } from '../http/request-info.ts';
import type { HttpResult } from '../http/response.ts';
import type { Scope } from '../tenants/tenant.ts';
import type { VerifiedAccessToken } from '../tokens/access-token.ts';
import { runtime } from './runtime.ts';

/** Who is calling, on which tenant: what a scoped route's handler receives. */
export interface Caller {
  /** The tenant the call acts on: the `{tenant}` path parameter, which is also the token's tenant. */
  tenant: string;
  /** The caller's verified access token, its scopes cut to what its relationship grants today. */
  token: VerifiedAccessToken;
  /** Lambda's request id and the caller's address, for the audit record. */
  request: RequestInfo;
}

/**
 * The one way a route requires a scope: a route handler (lib/http/handler.ts) that first
 * authenticates the bearer token and requires `scope` of it (lib/auth/bearer.ts: 401 for a
 * missing, invalid or no longer standing token, 403 without the scope). `tenant: 'path'`: the call
 * acts on the `{tenant}` path parameter (400 when malformed, checked first), and another tenant's
 * token is 403; `tenant: 'token'`: on the token's own tenant.
 */
export function scopedHandler(
  options: { methods: readonly string[]; scope: Scope; tenant: 'path' | 'token' },
  fn: (event: HttpEvent, caller: Caller) => Promise<HttpResult>,
) {
  return httpHandler(async (event, context) => {
    const { bearerDeps } = runtime();
    const authorization = event.headers?.authorization;
    const token =
      options.tenant === 'path'
        ? await authorize(bearerDeps, authorization, tenantParam(event), options.scope)
        : await authenticate(bearerDeps, authorization, options.scope);
    return fn(event, { tenant: token.tenant, token, request: requestInfo(event, context) });
  }, options);
}
