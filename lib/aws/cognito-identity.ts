import { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } from '@aws-sdk/client-cognito-identity';
import type { CognitoIdentityPort } from '../cognito/ports.ts';
import { AccessDenied, InternalError, InvalidRequest } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { SDK_DEFAULTS, isTransient, unavailable } from './errors.ts';

/**
 * Cognito Identity adapter. One client per region, built on first use and kept for the
 * container. Errors are translated here and name the pool, never the account: throttling and
 * outages → 503; an unknown pool or a provider fedbroker is not → 4xx the caller can act on.
 */
export class CognitoIdentityAdapter implements CognitoIdentityPort {
  readonly #clients = new Map<string, CognitoIdentityClient>();

  #client(region: string): CognitoIdentityClient {
    let client = this.#clients.get(region);
    if (!client) {
      client = new CognitoIdentityClient({ ...SDK_DEFAULTS, region });
      this.#clients.set(region, client);
    }
    return client;
  }

  async getOpenIdTokenForDeveloperIdentity(input: Parameters<CognitoIdentityPort['getOpenIdTokenForDeveloperIdentity']>[0]) {
    try {
      const out = await this.#client(input.region).send(
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
      if (name === 'InvalidParameterException') throw new InvalidRequest(`Cognito refused the request for identity pool ${input.identityPoolId}`);
      throw new InternalError('Cognito request failed', { cause: e });
    }
  }
}
