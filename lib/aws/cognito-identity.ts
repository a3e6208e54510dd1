import { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { CognitoIdentityPort } from '../cognito/ports.ts';
import { AccessDenied, InternalError, InvalidRequest } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { SDK_DEFAULTS, isTransient, unavailable } from './errors.ts';

/** Lifetime asked of STS for an assumed role's session (its minimum). */
const ROLE_SESSION_SECONDS = 900;
/** Assumed-role credentials are replaced this long before they expire. */
const REFRESH_MARGIN_MS = 60_000;

/** A role assumed on behalf of one tenant. */
interface AssumedRole {
  roleArn: string;
  tenant: string;
}
const roleKey = (role: AssumedRole) => `${role.roleArn}\n${role.tenant}`;

interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * Cognito Identity adapter. One client per region (and per assumed role, for pools in other
 * accounts), built on first use and kept for the container. A pool's `role_arn` is assumed with
 * STS AssumeRole under the Lambda's own credentials; the session is cached per role until a
 * minute before it expires. Errors are translated here and name the pool, never the account:
 * throttling and outages → 503; an unknown pool, a provider fedbroker is not or a role it cannot
 * assume → 4xx the caller can act on.
 */
export class CognitoIdentityAdapter implements CognitoIdentityPort {
  readonly #clients = new Map<string, CognitoIdentityClient>();
  readonly #roles = new Map<string, Promise<RoleCredentials>>();
  #sts: STSClient | undefined;

  #client(region: string, role: AssumedRole | undefined): CognitoIdentityClient {
    const key = role ? `${region}\n${roleKey(role)}` : region;
    let client = this.#clients.get(key);
    if (!client) {
      client = new CognitoIdentityClient({ ...SDK_DEFAULTS, region, ...(role ? { credentials: () => this.#roleCredentials(role) } : {}) });
      this.#clients.set(key, client);
    }
    return client;
  }

  /**
   * The role's cached session for this tenant, or a new one from STS AssumeRole (concurrent
   * callers share it). The tenant is the ExternalId (IAM User Guide, "How to use an external ID
   * when granting access to your AWS resources to a third party"): fedbroker is a deputy serving
   * many tenants, and only the ExternalId lets the role's owner say which one may use it. Sessions
   * are cached per role *and* tenant, so one tenant never rides on another's session.
   */
  #roleCredentials(role: AssumedRole): Promise<RoleCredentials> {
    const key = roleKey(role);
    const cached = this.#roles.get(key);
    if (cached) return cached;
    this.#sts ??= new STSClient({ ...SDK_DEFAULTS });
    const pending = this.#sts
      .send(
        new AssumeRoleCommand({
          RoleArn: role.roleArn,
          ExternalId: role.tenant,
          // 2-64 of [\w+=,.@-] (STS API reference): tenant ids fit after the prefix once cut.
          RoleSessionName: `fedbroker.${role.tenant}`.slice(0, 64),
          DurationSeconds: ROLE_SESSION_SECONDS,
        }),
      )
      .then((out) => {
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
          throw new InternalError('STS returned no credentials');
        const credentials = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          expiration: c.Expiration,
        };
        const timer = setTimeout(
          () => {
            if (this.#roles.get(key) === pending) this.#roles.delete(key);
          },
          Math.max(0, credentials.expiration.getTime() - Date.now() - REFRESH_MARGIN_MS),
        );
        timer.unref();
        return credentials;
      });
    this.#roles.set(key, pending);
    pending.catch(() => {
      if (this.#roles.get(key) === pending) this.#roles.delete(key);
    });
    return pending;
  }

  /** Assumes the pool's role ahead of the Cognito call, translating STS errors for the pool. */
  async #assume(role: AssumedRole, poolId: string): Promise<void> {
    try {
      await this.#roleCredentials(role);
    } catch (e) {
      if (e instanceof InternalError) throw e;
      if (isTransient(e)) throw unavailable('AWS STS', e);
      logger.warn('STS refused AssumeRole for an identity pool', { pool: poolId, error: describeError(e) });
      if (e instanceof Error && (e.name === 'AccessDenied' || e.name === 'AccessDeniedException')) {
        throw new AccessDenied(`fedbroker cannot assume the role configured for identity pool ${poolId}`);
      }
      throw new InternalError('STS request failed', { cause: e });
    }
  }

  async getOpenIdTokenForDeveloperIdentity(input: Parameters<CognitoIdentityPort['getOpenIdTokenForDeveloperIdentity']>[0]) {
    const role = input.roleArn ? { roleArn: input.roleArn, tenant: input.tenant } : undefined;
    if (role) await this.#assume(role, input.identityPoolId);
    try {
      const out = await this.#client(input.region, role).send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: input.identityPoolId,
          Logins: { [input.developerProvider]: input.developerUserId },
          TokenDuration: input.tokenDurationSeconds,
          ...(input.principalTags ? { PrincipalTags: input.principalTags } : {}),
        }),
      );
      if (!out.IdentityId || !out.Token) throw new InternalError('Cognito returned no token');
      return { identityId: out.IdentityId, token: out.Token };
    } catch (e) {
      if (e instanceof InternalError) throw e;
      if (isTransient(e)) throw unavailable('Amazon Cognito', e);
      const name = e instanceof Error ? e.name : '';
      logger.warn('Cognito refused GetOpenIdTokenForDeveloperIdentity', { pool: input.identityPoolId, error: describeError(e) });
      if (name === 'ResourceNotFoundException') throw new InvalidRequest(`identity pool ${input.identityPoolId} was not found`);
      if (name === 'NotAuthorizedException' || name === 'AccessDeniedException') {
        throw new AccessDenied(`fedbroker is not authorized as developer provider of identity pool ${input.identityPoolId}`);
      }
      if (name === 'InvalidParameterException')
        throw new InvalidRequest(`Cognito refused the request for identity pool ${input.identityPoolId}`);
      throw new InternalError('Cognito request failed', { cause: e });
    }
  }
}
