import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { withRequestContext } from '../../../lib/trust/context.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { validateRelationship } from '../../../lib/trust/validate.ts';

/** Request-context keys (lib/trust/context.ts): supplied by the broker only, fail closed when missing. */

const now = Date.parse('2026-12-07T18:00:00Z');
const grants = (block: unknown, claims: Record<string, unknown>, sourceIp?: string) =>
  evaluateConditions(compileConditions(block), withRequestContext(claims, { now, sourceIp })).matched;

describe('request context keys', () => {
  it('fedbroker:CurrentTime and fedbroker:EpochTime are the broker clock', () => {
    expect(grants({ DateGreaterThan: { 'fedbroker:CurrentTime': '2026-12-07T17:00:00Z' } }, {})).toBe(true);
    expect(grants({ DateLessThan: { 'fedbroker:CurrentTime': '2026-12-07T17:00:00Z' } }, {})).toBe(false);
    expect(grants({ DateLessThan: { 'fedbroker:EpochTime': 1796666401 } }, {})).toBe(true);
  });

  it('fedbroker:SourceIp is the gateway source address, and missing fails closed', () => {
    expect(grants({ IpAddress: { 'fedbroker:SourceIp': '203.0.113.0/24' } }, {}, '203.0.113.5')).toBe(true);
    expect(grants({ NotIpAddress: { 'fedbroker:SourceIp': '203.0.113.0/24' } }, {})).toBe(false);
  });

  it('a token or certificate can never supply a context key, in any case', () => {
    const forged = {
      'fedbroker:SourceIp': '203.0.113.5',
      'FEDBROKER:SOURCEIP': '203.0.113.5',
      'fedbroker:CurrentTime': '2000-01-01T00:00:00Z',
    };
    expect(grants({ IpAddress: { 'fedbroker:SourceIp': '203.0.113.0/24' } }, forged)).toBe(false);
    expect(grants({ IpAddress: { 'fedbroker:SourceIp': '203.0.113.0/24' } }, forged, '198.51.100.1')).toBe(false);
    expect(grants({ DateLessThan: { 'fedbroker:CurrentTime': '2026-01-01T00:00:00Z' } }, forged)).toBe(false);
    expect(Object.keys(withRequestContext({ __proto__: 1, ...JSON.parse('{"__proto__": {"x": 1}}') }, { now }))).toContain('__proto__');
  });

  it('an unknown fedbroker: key is refused when stored', () => {
    const doc = { kind: 'oidc', issuer: 'https://issuer.example.com', audiences: ['a'], scopes: ['id-token:issue'] };
    expect(() =>
      validateRelationship(
        { ...doc, conditions: { StringEquals: { sub: 'x' }, IpAddress: { 'fedbroker:SourceIP4': '10.0.0.0/8' } } },
        { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' },
      ),
    ).toThrow(PolicyInvalid);
    expect(
      validateRelationship(
        { ...doc, conditions: { StringEquals: { sub: 'x' }, IpAddress: { 'fedbroker:sourceip': '10.0.0.0/8' } } },
        { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' },
      ).conditions,
    ).toBeDefined();
  });
});
