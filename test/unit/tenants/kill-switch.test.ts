import { describe, expect, it } from 'vitest';
import { TenantDirectory } from '../../../lib/tenants/directory.ts';
import type { TrustStore } from '../../../lib/tenants/ports.ts';
import type { TrustRelationship } from '../../../lib/trust/schema.ts';

// The kill switch bound the README documents: a relationship disabled in the store stops being
// usable by a warm container exactly when FEDBROKER_TENANT_CACHE_SECONDS have passed (fake clock).
const context = { cognitoIssuer: 'https://cognito-identity.amazonaws.com', developerProvider: 'fedbroker' };
const relationship = (enabled: boolean): TrustRelationship => ({
  kind: 'oidc',
  id: 'ci',
  tenant: 'acme',
  issuer: 'https://issuer.example',
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub: 'x' } },
  scopes: ['id-token:issue'],
  id_token_audiences: ['sts.amazonaws.com'],
  max_duration_seconds: 3600,
  subject_template: '{trust}/{claims.sub}',
  session_tags: {},
  enabled,
  version: 1,
  created_at: '',
  updated_at: '',
});

describe('kill switch bound', () => {
  it('keeps a disabled relationship usable for less than the cache bound, and not a moment longer', async () => {
    let now = 0;
    let enabled = true;
    const store = {
      readTenant: async () => ({ tenant: { id: 'acme', name: 'acme', status: 'active' }, relationships: [relationship(enabled)], pools: [] }),
    } as unknown as TrustStore;
    const directory = new TenantDirectory({ store, clock: { now: () => now }, ttlSeconds: 15, context });
    const usable = async () => (await directory.get('acme')).trusts.some((t) => t.relationship.id === 'ci');
    expect(await usable()).toBe(true);
    enabled = false;
    now = 14_999;
    expect(await usable()).toBe(true);
    now = 15_000;
    expect(await usable()).toBe(false);
  });
});
