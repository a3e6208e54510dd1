import { InvalidArgumentError } from 'commander';
import { TOKEN_TYPE } from '../../lib/tokens/types.ts';

/** Google's STS token endpoint (Security Token Service API, `v1/token`). */
export const GOOGLE_STS_TOKEN_URL = 'https://sts.googleapis.com/v1/token';

const PROVIDER =
  /^\/\/iam\.googleapis\.com\/projects\/\d{1,20}\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;
const IMPERSONATION = /^https:\/\/iamcredentials\.googleapis\.com\/v1\/projects\/-\/serviceAccounts\/[^/\s]+@[^/\s]+:generateAccessToken$/;

export function providerAudienceArgument(text: string): string {
  if (!PROVIDER.test(text))
    throw new InvalidArgumentError(
      'expected //iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
    );
  return text;
}

export function impersonationUrlArgument(text: string): string {
  if (!IMPERSONATION.test(text))
    throw new InvalidArgumentError(
      'expected https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<email>:generateAccessToken',
    );
  return text;
}

/**
 * The `aud` Google expects in the ID token when a provider names no allowed audiences: the
 * provider's full resource name with the https: prefix (IAM docs, "Configure Workload Identity
 * Federation with other identity providers", allowed audiences).
 */
export const defaultTokenAudience = (provider: string) => `https:${provider}`;

export type CredentialSource =
  | { executable: { command: string; timeout_millis: number; output_file?: string } }
  | { file: string; format: { type: 'text' } };

/** A Workload Identity Federation credential configuration (`type: external_account`), as gcloud writes it. */
export function externalAccountConfig(o: {
  audience: string;
  tokenUrl: string;
  impersonationUrl?: string;
  source: CredentialSource;
}): Record<string, unknown> {
  return {
    universe_domain: 'googleapis.com',
    type: 'external_account',
    audience: o.audience,
    subject_token_type: TOKEN_TYPE.idToken,
    token_url: o.tokenUrl,
    ...(o.impersonationUrl ? { service_account_impersonation_url: o.impersonationUrl } : {}),
    credential_source: o.source,
  };
}

/**
 * Google's executable response (google-auth-library, "Using Executable-sourced credentials with
 * OIDC and SAML"): version 1, success, token_type, id_token, expiration_time in epoch seconds.
 */
export function executableSuccess(token: string, expiresAt: number): string {
  return `${JSON.stringify({
    version: 1,
    success: true,
    token_type: TOKEN_TYPE.idToken,
    id_token: token,
    expiration_time: Math.floor(expiresAt / 1000),
  })}\n`;
}

/** The failure form: `code` and `message` are both required when success is false. */
export function executableFailure(code: string, message: string): string {
  return `${JSON.stringify({ version: 1, success: false, code, message })}\n`;
}
