/** Cognito Identity port: the one call fedbroker makes as a developer provider. */
export interface CognitoIdentityPort {
  /** `GetOpenIdTokenForDeveloperIdentity` (Cognito Identity API reference). */
  getOpenIdTokenForDeveloperIdentity(input: {
    region: string;
    identityPoolId: string;
    developerProvider: string;
    developerUserId: string;
    tokenDurationSeconds: number;
    principalTags: Record<string, string> | undefined;
    /** Role to assume first (STS AssumeRole) when the pool lives in another account. */
    roleArn?: string;
    /** The tenant vending: passed as the role's ExternalId, so the role's trust policy names the one tenant it serves. */
    tenant: string;
  }): Promise<{ identityId: string; token: string }>;
}
