import { InvalidRequest } from '../errors.ts';
import { RELATIONSHIP_ID, TENANT_ID } from '../trust/schema.ts';
import type { HttpEvent } from './handler.ts';

/** The `{tenant}` path parameter, validated before it reaches any key expression. */
export function tenantParam(event: HttpEvent): string {
  const tenant = event.pathParameters?.tenant ?? '';
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
  return tenant;
}

/** The `{id}` path parameter of a trust relationship. */
export function relationshipParam(event: HttpEvent): string {
  const id = event.pathParameters?.id ?? '';
  if (!RELATIONSHIP_ID.test(id)) throw new InvalidRequest('id is not a valid trust relationship id');
  return id;
}
