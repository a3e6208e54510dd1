import { InvalidRequest } from '../errors.ts';
import { TENANT_ID } from '../tenants/tenant.ts';
import type { HttpEvent } from './handler.ts';

/** The `{tenant}` path parameter, validated before it reaches any key expression. */
export function tenantParam(event: HttpEvent): string {
  const tenant = event.pathParameters?.tenant ?? '';
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
  return tenant;
}

/** The `{id}` path parameter of a tenant document (API Gateway passes it percent-decoded or not). */
export function documentParam(event: HttpEvent, pattern: RegExp, label: string): string {
  let id = event.pathParameters?.id ?? '';
  try {
    id = decodeURIComponent(id);
  } catch {
    throw new InvalidRequest(`id is not a valid ${label} id`);
  }
  if (!pattern.test(id)) throw new InvalidRequest(`id is not a valid ${label} id`);
  return id;
}
