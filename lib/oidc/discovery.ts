import type { Config } from '../config.ts';

/** RFC 8693 §2.1's grant type: the only one the token endpoint serves. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Claims fedbroker puts in the tokens it issues. */
const CLAIMS_SUPPORTED = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'tenant_id', 'trust', 'https://aws.amazon.com/tags'];

/** Where each published document lives, relative to the issuer (one place for all of them). */
export const PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/.well-known/jwks.json',
  token: '/v1/token',
} as const;

/**
 * The OpenID Provider Metadata (OIDC Discovery 1.0 §3). `issuer` is exactly the configured
 * issuer: verifiers such as AWS IAM and openid-client compare it byte for byte.
 */
export function discoveryDocument(config: Pick<Config, 'issuer' | 'signer'>) {
  return {
    issuer: config.issuer,
    jwks_uri: `${config.issuer}${PATHS.jwks}`,
    token_endpoint: `${config.issuer}${PATHS.token}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.signer.alg],
    claims_supported: CLAIMS_SUPPORTED,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['openid'],
  };
}
