import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { ConflictError, InvalidRequest, NotFound, PreconditionFailed, PreconditionRequired } from '../errors.ts';
import { validateRelationship } from '../trust/policy.ts';
import { TENANT_ID, tenantSchema, type Tenant, type TrustRelationship } from '../trust/schema.ts';
import type { TrustStore } from './ports.ts';

export interface AdminDeps {
  store: TrustStore;
  clock: Clock;
  local: boolean;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

function checkTenantId(tenant: string): void {
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
}

/** Creates a tenant (operator bootstrap). Refuses an existing id with 409. */
export async function createTenant(deps: AdminDeps, input: { id: string; name?: string }): Promise<Tenant> {
  const parsed = tenantSchema.safeParse({ id: input.id, name: input.name ?? input.id, status: 'active' });
  if (!parsed.success) throw new InvalidRequest(`invalid tenant: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const at = iso(deps.clock);
  const tenant: Tenant = { ...parsed.data, version: 1, created_at: at, updated_at: at };
  if (!(await deps.store.createTenant(tenant))) throw new ConflictError(`tenant ${tenant.id} already exists`);
  return tenant;
}

/** Disables or re-enables a tenant; a disabled tenant can exchange nothing. */
export async function setTenantStatus(deps: AdminDeps, tenant: string, status: Tenant['status']): Promise<void> {
  checkTenantId(tenant);
  if (!(await deps.store.setTenantStatus(tenant, status, iso(deps.clock)))) throw new NotFound(`tenant ${tenant} does not exist`);
}

async function requireTenant(deps: AdminDeps, tenant: string) {
  checkTenantId(tenant);
  const view = await deps.store.readTenant(tenant);
  if (!view.tenant) throw new NotFound(`tenant ${tenant} does not exist`);
  return view;
}

export async function listRelationships(deps: AdminDeps, tenant: string): Promise<TrustRelationship[]> {
  return (await requireTenant(deps, tenant)).relationships.sort((a, b) => a.id.localeCompare(b.id));
}

export async function getRelationship(deps: AdminDeps, tenant: string, id: string): Promise<TrustRelationship> {
  checkTenantId(tenant);
  const found = await deps.store.getRelationship(tenant, id);
  if (!found) throw new NotFound(`trust relationship ${id.slice(0, 64)} does not exist`);
  return found;
}

/** Validates and stores a new relationship; the id is generated when the document has none. */
export async function createRelationship(deps: AdminDeps, tenant: string, body: unknown): Promise<TrustRelationship> {
  await requireTenant(deps, tenant);
  const spec = validateRelationship(body, { local: deps.local });
  const at = iso(deps.clock);
  const relationship: TrustRelationship = {
    ...spec,
    id: spec.id ?? `tr-${randomBytes(6).toString('hex')}`,
    tenant,
    version: 1,
    created_at: at,
    updated_at: at,
  };
  if (!(await deps.store.createRelationship(relationship))) throw new ConflictError(`trust relationship ${relationship.id} already exists`);
  return relationship;
}

/** Parses `If-Match` (RFC 9110 §13.1.1): the relationship version, as a quoted entity tag. */
export function parseIfMatch(header: string | undefined): number {
  if (!header) throw new PreconditionRequired('If-Match with the current version is required');
  const m = /^\s*(?:W\/)?"?(\d{1,12})"?\s*$/.exec(header);
  if (!m) throw new PreconditionFailed('If-Match must name one version, e.g. "3"');
  return Number(m[1]);
}

/** Replaces a relationship if `expectedVersion` is current: of two racing writers exactly one wins. */
export async function replaceRelationship(deps: AdminDeps, tenant: string, id: string, body: unknown, expectedVersion: number): Promise<TrustRelationship> {
  const current = await getRelationship(deps, tenant, id);
  const spec = validateRelationship(body, { local: deps.local });
  if (spec.id !== undefined && spec.id !== id) throw new InvalidRequest('the document id does not match the URL');
  if (current.version !== expectedVersion) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
  const next: TrustRelationship = { ...spec, id, tenant, version: expectedVersion + 1, created_at: current.created_at, updated_at: iso(deps.clock) };
  if (!(await deps.store.replaceRelationship(next, expectedVersion))) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
  return next;
}

export async function deleteRelationship(deps: AdminDeps, tenant: string, id: string, expectedVersion: number): Promise<void> {
  await getRelationship(deps, tenant, id);
  if (!(await deps.store.deleteRelationship(tenant, id, expectedVersion))) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
}
