import { byId, codeUnitOrder } from '../code-unit-order.ts';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { IDENTITY_POOL_ID } from '../cognito/pool.ts';
import { cognitoPoolInputSchema, type CognitoPool } from '../cognito/schema.ts';
import {
  AccessDenied,
  ConflictError,
  InvalidRequest,
  LimitExceeded,
  NotFound,
  PolicyInvalid,
  PreconditionFailed,
  PreconditionRequired,
} from '../errors.ts';
import { relationshipAdmission, validateRelationship } from '../trust/validate.ts';
import { MAX_IDENTITY_POOLS, MAX_RELATIONSHIPS, TENANT_ID, type Tenant } from '../tenants/tenant.ts';
import { tenantSchema } from '../tenants/tenant-schema.ts';
import { RELATIONSHIP_ID } from '../trust/relationship-id.ts';
import type { TrustRelationship } from '../trust/schema.ts';
import { poolAllowance } from './ownership.ts';
import { describeIssues } from '../zod.ts';
import type { DocumentPrefix, StoredDocument, TenantRecord, TrustStore } from '../directory/ports.ts';

export interface AdminDeps {
  store: TrustStore;
  clock: Clock;
  /** Local run: http://localhost issuers allowed. */
  local: boolean;
  cognitoIssuer: string;
  /**
   * How this request reads a whole tenant (its documents and their count): a strongly consistent
   * read started during the request (lib/handlers/scope.ts `tenantReads`). Without it (the CLI),
   * `store.readTenant`.
   */
  readTenant?: (tenant: string) => Promise<TenantRecord>;
  /**
   * Such a read of the tenant if this request already made one (the prefetch of a cold
   * container), else undefined: a single document is then read on its own.
   */
  tenantReadSoFar?: (tenant: string) => Promise<TenantRecord> | undefined;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

function checkTenantId(tenant: string): void {
  if (!TENANT_ID.test(tenant)) throw new InvalidRequest('tenant is not a valid tenant id');
}

/** Creates a tenant (operator bootstrap). Refuses an existing id with 409. */
export async function createTenant(deps: AdminDeps, input: { id: string; name?: string }): Promise<Tenant> {
  const parsed = tenantSchema.safeParse({ id: input.id, name: input.name ?? input.id, status: 'active' });
  if (!parsed.success) throw new InvalidRequest(`invalid tenant: ${describeIssues(parsed.error).join('; ')}`);
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

/**
 * Parses `If-Match` (RFC 9110 §13.1.1): the document version as one quoted, strong entity tag.
 * If-Match uses the strong comparison (§8.8.3.2), so a weak tag (`W/"3"`) can never match, and
 * `*` would make the write unconditional: both are refused, as is an unquoted or listed value.
 */
export function parseIfMatch(header: string | undefined): number {
  if (!header) throw new PreconditionRequired('If-Match with the current version is required');
  const m = /^\s*"(\d{1,12})"\s*$/.exec(header);
  if (!m) throw new PreconditionFailed('If-Match must name the current version as one strong entity tag, e.g. "3"');
  return Number(m[1]);
}

/** A fresh, never-repeating document generation (128 random bits). */
const newGeneration = () => randomBytes(16).toString('base64url');

export type Documents = ReturnType<typeof documents>;

/** How one kind of tenant document is validated and named. */
interface DocumentKind<D extends StoredDocument> {
  label: string;
  prefix: DocumentPrefix;
  /** What a document id looks like (checked before it reaches a key expression). */
  idPattern: RegExp;
  validate(
    body: unknown,
    deps: AdminDeps,
    tenant: Tenant,
  ): (Omit<D, keyof StoredDocument> & { id?: string }) | Promise<Omit<D, keyof StoredDocument> & { id?: string }>;
  pick(record: Awaited<ReturnType<TrustStore['readTenant']>>): D[];
  /** Most documents of this kind a tenant may hold (every container reads them all with the tenant). */
  max: number;
  /**
   * The part of a document access tokens depend on: a replace that changes it gets a new
   * generation, which ends every token the old content admitted. Omitted: never changes.
   */
  admission?(doc: Omit<D, keyof StoredDocument>): unknown;
}

/**
 * Versioned CRUD over one kind of tenant document, shared by trust relationships and identity
 * pools: validated on write, optimistic concurrency through `version` (of two writers holding the
 * same version exactly one wins).
 */
export function documents<D extends StoredDocument>(kind: DocumentKind<D>) {
  const get = async (deps: AdminDeps, tenant: string, id: string): Promise<D> => {
    checkTenantId(tenant);
    const read = deps.tenantReadSoFar?.(tenant);
    const found = read ? kind.pick(await read).find((d) => d.id === id) : await deps.store.getDocument<D>(tenant, kind.prefix, id);
    if (!found) throw new NotFound(`${kind.label} ${id.slice(0, 64)} does not exist`);
    return found;
  };
  const tenantOf = async (deps: AdminDeps, tenant: string) => {
    checkTenantId(tenant);
    const record = await (deps.readTenant ? deps.readTenant(tenant) : deps.store.readTenant(tenant));
    if (!record.tenant) throw new NotFound(`tenant ${tenant} does not exist`);
    return { tenant: record.tenant, record };
  };
  const sameAdmission = (a: Omit<D, keyof StoredDocument>, b: Omit<D, keyof StoredDocument>) =>
    kind.admission === undefined || canonical(kind.admission(a)) === canonical(kind.admission(b));
  return {
    label: kind.label,
    idPattern: kind.idPattern,
    get,
    async list(deps: AdminDeps, tenant: string): Promise<D[]> {
      const { record } = await tenantOf(deps, tenant);
      return kind.pick(record).sort(byId);
    },
    async create(deps: AdminDeps, tenant: string, body: unknown): Promise<D> {
      const { tenant: owner, record } = await tenantOf(deps, tenant);
      const spec = await kind.validate(body, deps, owner);
      if (kind.pick(record).length >= kind.max) {
        throw new LimitExceeded(`tenant ${tenant} already holds ${kind.max} ${kind.label}s, the most it can; delete one first`);
      }
      const id = spec.id ?? `tr-${randomBytes(6).toString('hex')}`;
      // Checked first only so that a plain conflict does not skip a version number.
      if (await deps.store.getDocument(tenant, kind.prefix, id)) throw new ConflictError(`${kind.label} ${id} already exists`);
      const at = iso(deps.clock);
      // From the id's counter, which outlives deletes: versions (and ETags) never repeat.
      const version = await deps.store.nextVersion(tenant, kind.prefix, id, 0);
      const doc = { ...spec, id, tenant, version, generation: newGeneration(), created_at: at, updated_at: at } as unknown as D;
      if (!(await deps.store.putDocument(kind.prefix, doc, undefined))) throw new ConflictError(`${kind.label} ${doc.id} already exists`);
      return doc;
    },
    async replace(deps: AdminDeps, tenant: string, id: string, body: unknown, expectedVersion: number): Promise<D> {
      const { tenant: owner } = await tenantOf(deps, tenant);
      const current = await get(deps, tenant, id);
      const spec = await kind.validate(body, deps, owner);
      if (spec.id !== undefined && spec.id !== id) throw new InvalidRequest('the document id does not match the URL');
      if (current.version !== expectedVersion) throw new PreconditionFailed(`version ${expectedVersion} is not current`);
      const generation = sameAdmission(current, spec) && current.generation ? current.generation : newGeneration();
      const version = await deps.store.nextVersion(tenant, kind.prefix, id, current.version);
      const next = {
        ...spec,
        id,
        tenant,
        version,
        generation,
        created_at: current.created_at,
        updated_at: iso(deps.clock),
      } as unknown as D;
      if (!(await deps.store.putDocument(kind.prefix, next, expectedVersion)))
        throw new PreconditionFailed(`version ${expectedVersion} is not current`);
      return next;
    },
    async remove(deps: AdminDeps, tenant: string, id: string, expectedVersion: number): Promise<void> {
      if ((await get(deps, tenant, id)).version !== expectedVersion)
        throw new PreconditionFailed(`version ${expectedVersion} is not current`);
      // Seeds the id's counter from a document that predates it, so a recreate continues after it.
      await deps.store.seedVersion(tenant, kind.prefix, id, expectedVersion);
      if (!(await deps.store.deleteDocument(tenant, kind.prefix, id, expectedVersion)))
        throw new PreconditionFailed(`version ${expectedVersion} is not current`);
    },
  };
}

/** Key-order-independent JSON, so equal content compares equal whatever order it was written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => codeUnitOrder(a, b)))
      : v,
  );
}

/** Trust relationships: who may exchange tokens into this tenant. */
export const relationships = documents<TrustRelationship>({
  label: 'trust relationship',
  prefix: 'TRUST',
  idPattern: RELATIONSHIP_ID,
  validate: (body, deps) => validateRelationship(body, { local: deps.local, cognitoIssuer: deps.cognitoIssuer }),
  pick: (record) => record.relationships,
  max: MAX_RELATIONSHIPS,
  admission: relationshipAdmission,
});

/** Outbound Cognito identity pools fedbroker vends tokens for, as their developer provider. */
export const identityPools = documents<CognitoPool>({
  label: 'identity pool',
  prefix: 'POOL',
  idPattern: IDENTITY_POOL_ID,
  validate: (body, _deps, tenant) => {
    const parsed = cognitoPoolInputSchema().safeParse(body);
    if (!parsed.success) throw new PolicyInvalid(describeIssues(parsed.error));
    // Pools and roles are shared AWS resources: only the ones the operator allowed this tenant.
    const refusal = poolAllowance(tenant, parsed.data);
    if (refusal) throw new AccessDenied(refusal);
    return parsed.data;
  },
  pick: (record) => record.pools,
  max: MAX_IDENTITY_POOLS,
});
