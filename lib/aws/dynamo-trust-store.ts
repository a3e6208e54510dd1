import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CognitoPool } from '../cognito/schema.ts';
import type { Revocation } from '../revocation/ports.ts';
import type { DocumentPrefix, StoredDocument, TrustStore } from '../directory/ports.ts';
import type { Tenant } from '../tenants/tenant.ts';
import type { TrustRelationship } from '../trust/schema.ts';
import type { TrustAnchor } from '../x509/anchor.ts';
import { InternalError } from '../errors.ts';
import type { Table } from './dynamo-table.ts';

/** The partition holding a tenant, its documents and its deny list. */
export const tenantPk = (tenant: string) => `TENANT#${tenant}`;
/**
 * Per-id version counters (`<PREFIX>#<id>` → `seq`), which outlive the documents they number (so
 * they also serve as tombstones), kept apart from the tenant's partition so that the exchange
 * path's read of the tenant never pays for them. `#` is not a tenant id character, so this can
 * never be another tenant's partition.
 */
export const tombstonePk = (tenant: string) => `TENANT#${tenant}#TOMB`;
const TENANT_SK = 'TENANT';
/** Global ownership claims of shared AWS resources (lib/app/ownership.ts): written by operators only. */
const claimPk = (kind: 'POOL' | 'ROLE', resource: string) => `CLAIM#${kind}#${resource}`;
const CLAIM_SK = 'CLAIM';
const sk = (prefix: DocumentPrefix, id: string) => `${prefix}#${id}`;
/** Sort-key prefix of deny-list entries (`REVOKED#<slot>`, see DynamoRevocationStore). */
export const REVOKED_PREFIX = 'REVOKED#';

/** A deny-list item as an entry, or undefined when it is not one of `tenant`'s. */
export function revocationOf(item: Record<string, unknown>, tenant: string): Revocation | undefined {
  const { jti, tenant: owner, expires_at: exp } = item;
  if (!String(item.sk).startsWith(REVOKED_PREFIX) || owner !== tenant || typeof jti !== 'string' || typeof exp !== 'number')
    return undefined;
  return { jti, tenant, exp };
}

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

/** The tenant item, its string sets (allow-lists) as sorted arrays. */
function tenantOf(item: Record<string, unknown>): Tenant {
  const tenant = strip<Record<string, unknown>>(item);
  for (const key of ['allowed_identity_pools', 'allowed_role_arns']) {
    const v = tenant[key];
    if (v instanceof Set) tenant[key] = [...(v as Set<string>)].sort();
  }
  return tenant as unknown as Tenant;
}

/**
 * Tenants (`TENANT#<id> / TENANT`), their documents (`TENANT#<id> / <PREFIX>#<doc id>`) and their
 * deny-list entries (`TENANT#<id> / REVOKED#<slot>`) in the single table.
 */
export class DynamoTrustStore implements TrustStore {
  readonly #table: Table;
  constructor(table: Table) {
    this.#table = table;
  }

  async readTenant(tenant: string) {
    const items = await this.#table.readPartition(tenantPk(tenant));
    const tenantItem = items.find((i) => i.sk === TENANT_SK);
    const of = <T>(prefix: DocumentPrefix) => items.filter((i) => String(i.sk).startsWith(`${prefix}#`)).map((i) => strip<T>(i));
    return {
      tenant: tenantItem ? tenantOf(tenantItem) : undefined,
      relationships: of<TrustRelationship>('TRUST'),
      pools: of<CognitoPool>('POOL'),
      anchors: of<TrustAnchor>('ANCHOR'),
      revocations: items.flatMap((i) => revocationOf(i, tenant) ?? []),
    };
  }

  createTenant(tenant: Tenant) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: tenantPk(tenant.id), sk: TENANT_SK, ...tenant },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  setTenantStatus(tenant: string, status: Tenant['status'], at: string) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: { pk: tenantPk(tenant), sk: TENANT_SK },
          UpdateExpression: 'SET #s = :s, updated_at = :at, version = version + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':at': at, ':one': 1 },
        }),
      ),
    );
  }

  async getDocument<T extends StoredDocument>(tenant: string, prefix: DocumentPrefix, id: string) {
    const t = this.#table;
    const out = await t.run(() =>
      t.doc.send(new GetCommand({ TableName: t.name, Key: { pk: tenantPk(tenant), sk: sk(prefix, id) }, ConsistentRead: true })),
    );
    return out.Item ? strip<T>(out.Item) : undefined;
  }

  putDocument(prefix: DocumentPrefix, document: StoredDocument, expectedVersion: number | undefined) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: tenantPk(document.tenant), sk: sk(prefix, document.id), ...document },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }

  deleteDocument(tenant: string, prefix: DocumentPrefix, id: string, expectedVersion: number) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new DeleteCommand({
          TableName: t.name,
          Key: { pk: tenantPk(tenant), sk: sk(prefix, id) },
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': expectedVersion },
        }),
      ),
    );
  }

  claim(kind: 'POOL' | 'ROLE', resource: string, tenant: string, at: string) {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: { pk: claimPk(kind, resource), sk: CLAIM_SK, owner: tenant, claimed_at: at },
          ConditionExpression: 'attribute_not_exists(pk) OR #o = :t',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':t': tenant },
        }),
      ),
    );
  }

  async release(kind: 'POOL' | 'ROLE', resource: string, tenant: string) {
    const t = this.#table;
    await t.conditional(() =>
      t.doc.send(
        new DeleteCommand({
          TableName: t.name,
          Key: { pk: claimPk(kind, resource), sk: CLAIM_SK },
          ConditionExpression: '#o = :t',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':t': tenant },
        }),
      ),
    );
  }

  allow(tenant: string, resources: { pools: string[]; roles: string[] }, mode: 'add' | 'remove' = 'add') {
    const t = this.#table;
    const parts: string[] = [];
    const values: Record<string, unknown> = {};
    // String sets: adding is idempotent and concurrent allows never overwrite each other.
    if (resources.pools.length) {
      parts.push('allowed_identity_pools :p');
      values[':p'] = new Set(resources.pools);
    }
    if (resources.roles.length) {
      parts.push('allowed_role_arns :r');
      values[':r'] = new Set(resources.roles);
    }
    if (!parts.length) return Promise.resolve(true);
    return t.conditional(() =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: { pk: tenantPk(tenant), sk: TENANT_SK },
          UpdateExpression: `${mode === 'add' ? 'ADD' : 'DELETE'} ${parts.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async seedVersion(tenant: string, prefix: DocumentPrefix, id: string, version: number) {
    await this.#counter(tenant, prefix, id, version, 0);
  }

  nextVersion(tenant: string, prefix: DocumentPrefix, id: string, floor: number) {
    // One atomic counter item per id: concurrent writers (a create racing a delete included)
    // can never be handed the same number. `floor` seeds a counter a document predates.
    return this.#counter(tenant, prefix, id, floor, 1);
  }

  /** `seq = (seq, or floor when absent) + step`, atomically; the new value. */
  async #counter(tenant: string, prefix: DocumentPrefix, id: string, floor: number, step: 0 | 1): Promise<number> {
    const t = this.#table;
    const out = await t.run(() =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: { pk: tombstonePk(tenant), sk: sk(prefix, id) },
          UpdateExpression: 'SET seq = if_not_exists(seq, :floor) + :step',
          ExpressionAttributeValues: { ':floor': floor, ':step': step },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const seq = out.Attributes?.seq;
    if (typeof seq !== 'number') throw new InternalError('version counter update returned no value');
    return seq;
  }
}
