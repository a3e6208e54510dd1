import { systemClock } from '../clock.ts';
import { createTenant, relationships, type AdminDeps } from '../app/documents.ts';
import type { TrustRelationshipInput } from '../trust/schema.ts';
import type { TrustStore } from '../directory/ports.ts';
import { DEV_AUDIENCE } from './dev-issuer.ts';

/**
 * Seeds the local run's `dev` tenant, trusting the dev issuer (DEV ONLY) for subjects `dev:*`,
 * through the same admin code and validation as the API. Re-run on every start, so a changed
 * dev issuer port is picked up.
 */
export async function seedDevTenant(store: TrustStore, devIssuer: string, cognitoIssuer: string): Promise<void> {
  const deps: AdminDeps = { store, clock: systemClock, local: true, cognitoIssuer };
  const relationship: TrustRelationshipInput = {
    kind: 'oidc',
    id: 'dev-issuer',
    description: 'DEV ONLY: trusts the local development issuer started by npm start',
    issuer: devIssuer,
    audiences: [DEV_AUDIENCE],
    conditions: { StringLike: { sub: 'dev:*' } },
    scopes: ['id-token:issue', 'trust:admin', 'aws:cognito', 'audit:read'],
    id_token_audiences: ['sts.amazonaws.com', 'https://*', 'api://*'],
  };
  if ((await store.readTenant('dev')).tenant === undefined) await createTenant(deps, { id: 'dev', name: 'Local development (DEV ONLY)' });
  const existing = (await store.readTenant('dev')).relationships.find((r) => r.id === 'dev-issuer');
  if (!existing) await relationships.create(deps, 'dev', relationship);
  // Also re-saved when it predates generations (a .fedbroker/ from an older build): unsaved, it never matches.
  else if (existing.kind !== 'oidc' || existing.issuer !== devIssuer || !existing.generation)
    await relationships.replace(deps, 'dev', 'dev-issuer', relationship, existing.version);
}
