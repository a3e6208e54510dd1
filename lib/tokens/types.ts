import type { AwsTagsClaim } from '../trust/session-tags.ts';
import type { CertificateBinding } from '../x509/binding.ts';
import type { Scope } from '../tenants/tenant.ts';

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** The access-token claim of a {@link Principal.certificate} binding (never put in ID tokens). */
export const CERTIFICATE_CLAIM = 'x509';

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
  /**
   * For a principal admitted by a certificate (docs/x509.md): the anchor, anchor CA and serial that
   * verified it. Access tokens carry it (claim `x509`) and stand only while that anchor still would.
   */
  certificate?: CertificateBinding | undefined;
}
