import { randomInt } from 'node:crypto';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailable } from '../errors.ts';
import { REVOCATION_CAP, type Revocation, type RevocationWriter, type RevokeOutcome } from '../revocation/ports.ts';
import type { Table } from './dynamo-table.ts';
import { REVOKED_PREFIX, revocationOf, tenantPk } from './dynamo-trust-store.ts';

/** Each attempt that loses a race lost it to another writer's success, so a few always suffice in practice. */
const MAX_ATTEMPTS = 5;

interface Slot {
  sk: string;
  entry: Revocation;
}

/**
 * Deny-list entries in their tenant's partition, read with the tenant (DynamoTrustStore): item
 * `TENANT#<tenant> / REVOKED#<slot>` with `jti`, `tenant` and `expires_at` = the token's `exp`
 * (DynamoDB TTL). Slots are numbered below the cap, so the cap is a property of the key space and
 * holds under concurrent writers with single-item conditional writes (dynalite has no
 * transactions): a slot is taken only if it is empty or its entry is dead. That also bounds the
 * whole partition, dead entries included, which matters because TTL deletion can lag by days
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html).
 */
export class DynamoRevocationStore implements RevocationWriter {
  readonly #table: Table;
  readonly #cap: number;

  /** `cap`: live entries per tenant, {@link REVOCATION_CAP} unless a test needs a small one. */
  constructor(table: Table, cap = REVOCATION_CAP) {
    this.#table = table;
    this.#cap = cap;
  }

  async write(entry: Revocation, liveAt: number): Promise<RevokeOutcome> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const live = (await this.#slots(entry.tenant)).filter((s) => s.entry.exp >= liveAt);
      const own = live.filter((s) => s.entry.jti === entry.jti);
      if (own.some((s) => s.entry.exp >= entry.exp)) return 'revoked';
      const written = own[0] ? await this.#extend(own[0].sk, entry) : await this.#claimFreeSlot(live, entry, liveAt);
      if (written === 'full') return 'full';
      if (written) return 'revoked';
    }
    throw new ServiceUnavailable("the tenant's deny list is being changed concurrently; retry", 1);
  }

  /** The tenant's deny-list items, strongly consistent: the cap is checked against what was written. */
  async #slots(tenant: string): Promise<Slot[]> {
    const items = await this.#table.readPartition(tenantPk(tenant), REVOKED_PREFIX);
    return items.flatMap((item) => {
      const entry = revocationOf(item, tenant);
      return entry ? [{ sk: String(item.sk), entry }] : [];
    });
  }

  /** Raises an entry's expiry; never lowers it, and never touches a slot reused for another jti meanwhile. */
  #extend(sk: string, entry: Revocation): Promise<boolean> {
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new UpdateCommand({
          TableName: t.name,
          Key: { pk: tenantPk(entry.tenant), sk },
          UpdateExpression: 'SET expires_at = :exp',
          ConditionExpression: 'jti = :jti AND expires_at < :exp',
          ExpressionAttributeValues: { ':jti': entry.jti, ':exp': entry.exp },
        }),
      ),
    );
  }

  /** Writes into a random free slot (random, so concurrent writers rarely contend for one). */
  async #claimFreeSlot(live: Slot[], entry: Revocation, liveAt: number): Promise<boolean | 'full'> {
    const taken = new Set(live.map((s) => s.sk));
    const free: string[] = [];
    for (let i = 0; i < this.#cap; i++) if (!taken.has(`${REVOKED_PREFIX}${i}`)) free.push(`${REVOKED_PREFIX}${i}`);
    if (free.length === 0) return 'full';
    const t = this.#table;
    return t.conditional(() =>
      t.doc.send(
        new PutCommand({
          TableName: t.name,
          Item: {
            pk: tenantPk(entry.tenant),
            sk: free[randomInt(free.length)],
            jti: entry.jti,
            tenant: entry.tenant,
            expires_at: entry.exp,
          },
          // Empty, or holding an entry that no longer stops anything.
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :live',
          ExpressionAttributeValues: { ':live': liveAt },
        }),
      ),
    );
  }
}
