import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, apiPath } from '../../lib/api-paths.ts';
import { routesFromServerlessYml } from '../../lib/local/http-api-routes.ts';
import { PATHS } from '../../lib/oidc/discovery.ts';

describe('API_ROUTES', () => {
  const declared = routesFromServerlessYml(resolve(import.meta.dirname, '../../serverless.yml')).routes.map((r) => r.path);

  it.each(Object.entries(API_ROUTES))('%s is a route serverless.yml declares', (_, path) => {
    expect(declared).toContain(path);
  });

  it('has the token path discovery publishes', () => {
    expect(API_ROUTES.token).toBe(PATHS.token);
  });

  it('fills parameters percent-encoded', () => {
    expect(apiPath(API_ROUTES.identityPool, { tenant: 'acme', id: 'eu-west-1:0f/1' })).toBe(
      '/v1/tenants/acme/cognito-identity-pools/eu-west-1%3A0f%2F1',
    );
    expect(() => apiPath(API_ROUTES.audit)).toThrow(/needs \{tenant\}/);
  });
});
