import type { RequestInfo } from '../app/record-exchange.ts';
import type { TenantRecord } from '../directory/ports.ts';
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
  /** `performance.now()` when this request's handling began, before its token was read. */
  since: number;
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
    const since = performance.now();
    const { bearerDeps } = runtime();
    const authorization = event.headers?.authorization;
    const token =
      options.tenant === 'path'
        ? await authorize(bearerDeps, authorization, tenantParam(event), options.scope)
        : await authenticate(bearerDeps, authorization, options.scope);
    return fn(event, { tenant: token.tenant, token, request: requestInfo(event, context), since });
  }, options);
}

/**
 * How a scoped request reads its tenant's stored documents: through the tenant directory, reusing
 * a read that started during this request (a cold container's tenant prefetch, lib/auth/
 * tenant-prefetch.ts) and reading afresh otherwise, so admin answers reflect every write
 * acknowledged before the request (TenantDirectory.readSince).
 */
export function tenantReads(caller: Caller): {
  readTenant: (tenant: string) => Promise<TenantRecord>;
  tenantReadSoFar: (tenant: string) => Promise<TenantRecord> | undefined;
} {
  const { directory } = runtime();
  return {
    readTenant: (tenant) => directory.readSince(tenant, caller.since),
    tenantReadSoFar: (tenant) => directory.readMadeSince(tenant, caller.since),
  };
}
