import { describe, expect, it } from 'vitest';
import { compileRoutes, routesFromServerlessYml, type HttpApiRoute } from '../../../lib/local/http-api-routes.ts';

const route = (routeKey: string): HttpApiRoute => {
  const [method, path] = routeKey === '$default' ? [undefined, undefined] : routeKey.split(' ');
  return {
    routeKey,
    method,
    path,
    functionKey: routeKey,
    functionName: routeKey,
    module: 'm.ts',
    exportName: 'handler',
    timeoutSeconds: 1,
    memorySizeMb: 128,
  };
};

describe('routes from serverless.yml', () => {
  const table = routesFromServerlessYml();

  it.each([
    ['GET', '/.well-known/openid-configuration', 'functions/discovery.ts', 'ANY /.well-known/openid-configuration', undefined],
    ['POST', '/v1/token', 'functions/token.ts', 'ANY /v1/token', undefined],
    [
      'PUT',
      '/v1/tenants/acme/trust-relationships/deploy',
      'functions/trust-relationship.ts',
      'ANY /v1/tenants/{tenant}/trust-relationships/{id}',
      { tenant: 'acme', id: 'deploy' },
    ],
    [
      'POST',
      '/v1/tenants/acme/trust-relationships:explain',
      'functions/trust-relationships-explain.ts',
      'ANY /v1/tenants/{tenant}/trust-relationships:explain',
      { tenant: 'acme' },
    ],
    [
      'GET',
      '/v1/tenants/acme/trust-relationships',
      'functions/trust-relationships.ts',
      'ANY /v1/tenants/{tenant}/trust-relationships',
      { tenant: 'acme' },
    ],
    ['GET', '/does-not-exist', 'functions/fallback.ts', '$default', undefined],
    ['POST', '/v1/token/', 'functions/fallback.ts', '$default', undefined],
  ])('%s %s → %s', (method, path, module, routeKey, pathParameters) => {
    const m = table.match(method, path);
    expect(m?.route.module).toBe(module);
    expect(m?.route.routeKey).toBe(routeKey);
    expect(m?.pathParameters).toEqual(pathParameters);
  });

  it('names functions as deployed and takes timeout and memory from the provider', () => {
    const token = table.routes.find((r) => r.functionKey === 'token');
    expect(token).toMatchObject({ functionName: 'fedbroker-local-token', exportName: 'handler', timeoutSeconds: 10, memorySizeMb: 512 });
  });

  it('serves only httpApi events (the rotation schedule is not a route)', () => {
    expect(table.routes.some((r) => r.functionKey === 'rotateKeys')).toBe(false);
  });
});

describe('route selection', () => {
  const table = compileRoutes(
    [
      'GET /pets/dog/1',
      'GET /pets/dog/{id}',
      'GET /pets/{proxy+}',
      'ANY /{proxy+}',
      'POST /items',
      'ANY /items',
      'ANY /items/{id}',
      '$default',
    ].map(route),
  );

  // API Gateway's examples ("Routing API requests"): full match first, then greedy, then $default.
  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', undefined],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/dog/1', 'ANY /{proxy+}', { proxy: 'pets/dog/1' }],
    ['POST', '/items', 'POST /items', undefined],
    ['DELETE', '/items', 'ANY /items', undefined],
    ['GET', '/items/7', 'ANY /items/{id}', { id: '7' }],
    ['GET', '//items', 'ANY /items', undefined],
    ['GET', '/', '$default', undefined],
  ])('%s %s → %s', (method, path, routeKey, pathParameters) => {
    const m = table.match(method, path);
    expect(m?.route.routeKey).toBe(routeKey);
    expect(m?.pathParameters).toEqual(pathParameters);
  });

  it('matches nothing without a $default route', () => {
    expect(compileRoutes([route('GET /a')]).match('GET', '/b')).toBeUndefined();
  });
});
