import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { cognitoPoolInputSchema, IDENTITY_POOL_ID, type CognitoPool } from '../cognito/schema.ts';
import { ConflictError, InvalidRequest, NotFound, PolicyInvalid, PreconditionFailed, PreconditionRequired } from '../errors.ts';
import { validateRelationship } from '../trust/policy.ts';
import { RELATIONSHIP_ID, TENANT_ID, tenantSchema, type Tenant, type TrustRelationship } from '../trust/schema.ts';
import type { DocumentPrefix, StoredDocument, TrustStore } from './ports.ts';

export interface AdminDeps {
  store: TrustStore;
  clock: Clock;
  /** Local run: http://localhost issuers allowed. */
  local: boolean;
  cognitoIssuer: string;
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

/** Parses `If-Match` (RFC 9110 §13.1.1): the document version, as a quoted entity tag. */
export function parseIfMatch(header: string | undefined): number {
  if (!header) throw new PreconditionRequired('If-Match with the current version is required');
  const m = /^\s*(?:W\/)?"?(\d{1,12})"?\s*$/.exec(header);
  if (!m) throw new PreconditionFailed('If-Match must name one version, e.g. "3"');
  return Number(m[1]);
}

export type Documents = ReturnType<typeof documents>;

/** How one kind of tenant document is validated and named. */
interface DocumentKind<D extends StoredDocument> {
  label: string;
  prefix: DocumentPrefix;
  /** What a document id looks like (checked before it reaches a key expression). */
  idPattern: RegExp;
  validate(body: unknown, deps: AdminDeps): Omit<D, keyof StoredDocument> & { id?: string };
  pick(record: Awaited<ReturnType<TrustStore['readTenant']>>): D[];
}

/**
 * Versioned CRUD over one kind of tenant document, shared by trust relationships and identity
 * pools: validated on write, optimistic concurrency through `version` (of two writers holding the
 * same version exactly one wins).
 */
function documents<D extends StoredDocument>(kind: DocumentKind<D>) {
  const get = async (deps: AdminDeps, tenant: string, id: string): Promise<D> => {
    checkTenantId(tenant);
    const found = await deps.store.getDocument<D>(tenant, kind.prefix, id);
    if (!found) throw new NotFound(`${kind.label} ${id.slice(0, 64)} does not exist`);
    return found;
  };
  return {
    label: kind.label,
    idPattern: kind.idPattern,
    get,
    async list(deps: AdminDeps, tenant: string): Promise<D[]> {
      checkTenantId(tenant);
      const record = await deps.store.readTenant(tenant);
      if (!record.tenant) throw new NotFound(`tenant ${tenant} does not exist`);
      return kind.pick(record).sort((a, b) => a.id.localeCompare(b.id));
    },
    async create(deps: AdminDeps, tenant: string, body: unknown): Promise<D> {
      checkTenantId(tenant);
      if (!(await deps.store.readTenant(tenant)).tenant) throw new NotFound(`tenant ${tenant} does not exist`);
      const spec = kind.validate(body, deps);
      const at = iso(deps.clock);
      const doc = { ...spec, id: spec.id ?? `tr-${randomBytes(6).toString('hex')}`, tenant, version: 1, created_at: at, updated_at: at } as unknown as D;
      if (!(await deps.store.putDocument(kind.prefix, doc, undefined))) throw new ConflictError(`${kind.label} ${doc.id} already exists`);
      return doc;
    },
    async replace(deps: AdminDeps, tenant: string, id: string, body: unknown, expectedVersion: number): Promise<D> {
      const current = await get(deps, tenant, id);
      const spec = kind.validate(body, deps);
      if (spec.id !== undefined && spec.id !== id) throw new InvalidRequest('the document id does not match the URL');
      if (current.version !== expectedVersion) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
      const next = { ...spec, id, tenant, version: expectedVersion + 1, created_at: current.created_at, updated_at: iso(deps.clock) } as unknown as D;
      if (!(await deps.store.putDocument(kind.prefix, next, expectedVersion))) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
      return next;
    },
    async remove(deps: AdminDeps, tenant: string, id: string, expectedVersion: number): Promise<void> {
      await get(deps, tenant, id);
      if (!(await deps.store.deleteDocument(tenant, kind.prefix, id, expectedVersion))) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
    },
  };
}

/** Trust relationships: who may exchange tokens into this tenant. */
export const relationships = documents<TrustRelationship>({
  label: 'trust relationship',
  prefix: 'TRUST',
  idPattern: RELATIONSHIP_ID,
  validate: (body, deps) => validateRelationship(body, { local: deps.local, cognitoIssuer: deps.cognitoIssuer }),
  pick: (record) => record.relationships,
});

/** Outbound Cognito identity pools fedbroker vends tokens for, as their developer provider. */
export const identityPools = documents<CognitoPool>({
  label: 'identity pool',
  prefix: 'POOL',
  idPattern: IDENTITY_POOL_ID,
  validate: (body) => {
    const parsed = cognitoPoolInputSchema.safeParse(body);
    if (!parsed.success) throw new PolicyInvalid(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`));
    return parsed.data;
  },
  pick: (record) => record.pools,
});
