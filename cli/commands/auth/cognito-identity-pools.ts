import { InvalidArgumentError } from 'commander';
import { API_ROUTES } from '../../../lib/api-paths.ts';
import { IDENTITY_POOL_ID } from '../../../lib/cognito/pool.ts';
import { type CognitoPool, cognitoPoolInputSchema } from '../../../lib/cognito/schema.ts';
import type { DocumentKind } from '../../tenant-documents.ts';

function poolId(text: string): string {
  if (!IDENTITY_POOL_ID.test(text)) throw new InvalidArgumentError('an identity pool id is <region>:<guid>');
  return text;
}

/**
 * `fedbroker auth cognito-identity-pools …`: the tenant's outbound identity pools (fedbroker as
 * developer provider), through the admin API with the stored token.
 */
export const IDENTITY_POOLS: DocumentKind<CognitoPool & Record<string, unknown>> = {
  command: 'cognito-identity-pools',
  description: "manage the identity pools the stored token's tenant vends Cognito tokens for (needs the trust:admin scope)",
  label: 'identity pool',
  routes: { list: API_ROUTES.identityPools, item: API_ROUTES.identityPool },
  schema: cognitoPoolInputSchema(),
  id: { argument: '<pool>', description: 'identity pool id', parse: poolId, of: (p) => p.identity_pool_id },
  help: {
    list: 'list the identity pools',
    get: 'show one identity pool',
    add: 'add an identity pool from a JSON document (validated locally first)',
    update: 'replace an identity pool with a JSON document (validated locally first)',
    remove: 'remove an identity pool: fedbroker stops vending tokens for it',
    addFile: 'the pool document (JSON): identity_pool_id, developer_provider, max_duration_seconds, principal_tags',
    updateFile: 'the full pool document (JSON)',
  },
  added: 'added',
  getFormats: ['json'],
  table: {
    columns: ['identity_pool_id', 'developer_provider', 'max_duration', 'principal_tags', 'enabled', 'version'],
    row: (p) => [
      p.identity_pool_id,
      p.developer_provider ?? '-',
      String(p.max_duration_seconds),
      String(p.principal_tags),
      String(p.enabled),
      String(p.version),
    ],
  },
  mismatch: (doc, id, file) =>
    doc.identity_pool_id !== id ? `${file} is for identity pool ${JSON.stringify(doc.identity_pool_id)}, not ${id}` : undefined,
};
