import { describe, expect, it } from 'vitest';
import { routesFromServerlessYml } from '../../../lib/local/http-api-routes.ts';
import { discoveryDocument, PATHS } from '../../../lib/oidc/discovery.ts';
import { jwksDocument, notModified } from '../../../lib/oidc/jwks.ts';

describe('discoveryDocument', () => {
  const doc = discoveryDocument({ issuer: 'https://id.example.com', signer: { kind: 'kms', keyId: 'k', alg: 'ES256' } });

  it('names the configured issuer exactly and derives every URL from it', () => {
    expect(doc.issuer).toBe('https://id.example.com');
    expect(doc.jwks_uri).toBe('https://id.example.com/.well-known/jwks.json');
    expect(doc.token_endpoint).toBe('https://id.example.com/v1/token');
  });

  it('declares the fields OIDC Discovery 1.0 §3 requires', () => {
    expect(doc.response_types_supported).toEqual(['id_token']);
    expect(doc.subject_types_supported).toEqual(['public']);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['iss', 'sub', 'aud', 'exp', 'iat']));
  });

  it('advertises the RFC 8693 token exchange grant', () => {
    expect(doc.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
  });

  // serverless.yml is the one route declaration: a path published here that no route of the
  // function it names serves would send every verifier to the 404 fallback.
  it.each(Object.entries(PATHS))('publishes %s at %s, a route serverless.yml declares for the function of that name', (name, path) => {
    const match = routesFromServerlessYml().match('GET', path);
    expect(match?.route.functionKey).toBe(name);
    expect(match?.route.path).toBe(path);
  });
});

describe('jwksDocument', () => {
  const key = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', alg: 'ES256', use: 'sig' as const };

  it('gives the same ETag for the same keys and another for different keys', () => {
    expect(jwksDocument([key]).etag).toBe(jwksDocument([key]).etag);
    expect(jwksDocument([key]).etag).not.toBe(jwksDocument([{ ...key, kid: 'k2' }]).etag);
  });

  it('wraps the keys in a JWK Set', () => {
    expect(JSON.parse(jwksDocument([key]).body)).toEqual({ keys: [key] });
  });
});

describe('notModified', () => {
  it.each([
    [undefined, false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['*', true],
    ['"abcd"', false],
    ['abc', false],
  ])('If-None-Match %s against "abc" → %s', (header, expected) => {
    expect(notModified(header, '"abc"')).toBe(expected);
  });
});
