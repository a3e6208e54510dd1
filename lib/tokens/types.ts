import type { AwsTagsClaim } from '../trust/session-tags.ts';
import type { Scope } from '../tenants/tenant.ts';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** Who a fedbroker token speaks for: the result of authenticating a subject token. */
export interface Principal {
  tenant: string;
  /** `<tenant>/<rendered subject template>`. */
  sub: string;
  /** Id of the trust relationship that admitted it. */
  trust: string;
  /** That relationship's generation when it admitted the principal (access tokens carry it as `trust_gen`). */
  generation: string;
  scopes: Scope[];
  tags: AwsTagsClaim | undefined;
  /** AWS source identity mapped by the relationship, carried into ID tokens for STS. */
  sourceIdentity?: string | undefined;
}
