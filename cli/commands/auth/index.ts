import type { Command } from 'commander';
import { registerAudit } from './audit.ts';
import { registerExchangeAwsCognitoToken } from './exchange-aws-cognito-token.ts';
import { registerTrustAwsCognitoIdentityPool } from './trust-aws-cognito-identity-pool.ts';
import { IDENTITY_POOLS } from './cognito-identity-pools.ts';
import { registerExchangeOidcToken } from './exchange-oidc-token.ts';
import { registerIssueIdToken } from './issue-id-token.ts';
import { registerRevokeToken } from './revoke-token.ts';
import { registerStatus } from './status.ts';
import { registerTrustRelationships } from './trust-relationships.ts';
import { registerDocumentCommands } from '../../tenant-documents.ts';
import { registerExchangeX509 } from './exchange-x509.ts';
import { TRUST_ANCHORS } from './trust-anchors.ts';

/** `fedbroker auth …`: sign in, issue ID tokens, and the tenant's admin API with the stored token. */
export function registerAuth(program: Command): void {
  const auth = program.command('auth').description('exchange tokens with the broker and manage trust relationships');
  // In the order `--help` lists them.
  registerExchangeOidcToken(auth);
  registerIssueIdToken(auth);
  registerStatus(auth);
  registerTrustRelationships(auth);
  registerRevokeToken(auth);
  registerAudit(auth);
  registerTrustAwsCognitoIdentityPool(auth);
  registerExchangeAwsCognitoToken(auth);
  registerDocumentCommands(auth, IDENTITY_POOLS);
  // Certificates in (docs/x509.md).
  registerExchangeX509(auth);
  registerDocumentCommands(auth, TRUST_ANCHORS);
}
