import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { compileConditions } from '../../../lib/trust/conditions.ts';
import { evaluateConditions } from '../../../lib/trust/evaluate.ts';
import { awsAllows } from '../../support/iam-simulator.ts';

/**
 * The request-context operators (issue 13): `Date*` and `IpAddress`/`NotIpAddress`, with AWS's
 * semantics ("Condition operators" in the IAM User Guide) and THE RULE of conditions.ts — never
 * grant where AWS refuses — checked against @cloud-copilot/iam-simulate as for the other operators.
 */

const grants = (block: unknown, claims: Record<string, unknown>) => evaluateConditions(compileConditions(block), claims).matched;

describe('Date operators', () => {
  const at = '2026-12-07T18:00:00Z';
  it('compare ISO 8601 instants and epoch seconds alike', () => {
    expect(grants({ DateGreaterThan: { t: '2026-12-07T17:59:59Z' } }, { t: at })).toBe(true);
    expect(grants({ DateGreaterThan: { t: '2026-12-07T19:00:00+01:00' } }, { t: at })).toBe(false);
    expect(grants({ DateEquals: { t: '2026-12-07T19:00:00+01:00' } }, { t: at })).toBe(true);
    expect(grants({ DateLessThan: { t: 1796666401 } }, { t: 1796666400 })).toBe(true);
    expect(grants({ DateLessThanEquals: { t: '1796666400' } }, { t: 1796666400 })).toBe(true);
    // Mixed epoch and ISO: evaluators read them differently, so never granted.
    expect(grants({ DateLessThan: { t: 1796666401 } }, { t: at })).toBe(false);
    expect(grants({ DateGreaterThanEquals: { t: at } }, { t: 1796666400 })).toBe(false);
    expect(grants({ DateNotEquals: { t: at } }, { t: '2026-12-07T18:00:01Z' })).toBe(true);
  });
  it('fail closed on a missing or unreadable claim, negated ones included', () => {
    expect(grants({ DateNotEquals: { t: at } }, {})).toBe(false);
    expect(grants({ DateNotEquals: { t: at } }, { t: '2026-12-07' })).toBe(false);
    expect(grants({ DateNotEqualsIfExists: { t: at } }, {})).toBe(true);
    expect(grants({ DateGreaterThan: { t: at } }, { t: '2026-12-08T00:00:00' })).toBe(false);
    expect(grants({ DateGreaterThan: { t: at } }, { t: ['2026-12-08T00:00:00Z'] })).toBe(false);
  });
  it('refuse ambiguous forms when stored', () => {
    for (const v of ['2026-12-07', '2026-12-07T18:00:00', '2026-02-30T00:00:00Z', '1e9', -1, 1.5, 'tomorrow']) {
      expect(() => compileConditions({ DateLessThan: { t: v } })).toThrow(PolicyInvalid);
    }
    expect(() => compileConditions({ 'ForAnyValue:DateLessThan': { t: at } })).toThrow(PolicyInvalid);
  });
});

describe('IpAddress / NotIpAddress', () => {
  it('match IPv4 and IPv6 addresses against CIDR lists', () => {
    expect(grants({ IpAddress: { ip: ['203.0.113.0/24', '2001:db8::/32'] } }, { ip: '203.0.113.9' })).toBe(true);
    expect(grants({ IpAddress: { ip: ['203.0.113.0/24', '2001:db8::/32'] } }, { ip: '2001:db8:1::5' })).toBe(true);
    expect(grants({ IpAddress: { ip: '203.0.113.7/32' } }, { ip: '203.0.113.7' })).toBe(true);
    expect(grants({ IpAddress: { ip: '203.0.113.0/24' } }, { ip: '198.51.100.1' })).toBe(false);
    expect(grants({ NotIpAddress: { ip: '203.0.113.0/24' } }, { ip: '198.51.100.1' })).toBe(true);
    expect(grants({ NotIpAddress: { ip: '203.0.113.0/24' } }, { ip: '203.0.113.1' })).toBe(false);
    expect(grants({ IpAddress: { ip: '203.0.113.0/24' } }, { ip: '2001:db8::1' })).toBe(false);
  });
  it('fail closed on a missing, malformed or IPv4-mapped claim, negated ones included', () => {
    expect(grants({ NotIpAddress: { ip: '203.0.113.0/24' } }, {})).toBe(false);
    expect(grants({ NotIpAddress: { ip: '203.0.113.0/24' } }, { ip: 'not-an-ip' })).toBe(false);
    expect(grants({ NotIpAddress: { ip: '203.0.113.0/24' } }, { ip: '::ffff:203.0.113.1' })).toBe(false);
    expect(grants({ IpAddress: { ip: '203.0.113.0/24' } }, { ip: '203.0.113.0/24' })).toBe(false);
    expect(grants({ NotIpAddressIfExists: { ip: '203.0.113.0/24' } }, {})).toBe(true);
  });
  it('refuse ambiguous ranges when stored', () => {
    for (const v of [
      '203.0.113.1/24',
      '010.0.0.1',
      'fe80::1%eth0',
      '::ffff:1.2.3.0/120',
      '10.0.0.0/33',
      '2001:db8::/129',
      '0.0.0.0/0',
      '::/0',
      '2001:db8::1',
      '203.0.113.7',
      42,
    ]) {
      expect(() => compileConditions({ IpAddress: { ip: v } })).toThrow(PolicyInvalid);
    }
  });
});

/** fedbroker grants ⇒ the independent IAM evaluator grants, for aws:CurrentTime and aws:SourceIp. */
async function awsGrants(condition: Record<string, Record<string, unknown>>, context: Record<string, string>): Promise<boolean> {
  return awsAllows(condition, context);
}

function fedbrokerGrants(block: unknown, claims: Record<string, unknown>): boolean {
  try {
    return grants(block, claims);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyInvalid);
    return false;
  }
}

describe('request-context operators against an independent IAM evaluator', () => {
  const instant = fc
    .integer({ min: 1_700_000_000, max: 1_700_000_010 })
    .chain((t) =>
      fc.constantFrom(
        String(t),
        new Date(t * 1000).toISOString().replace('.000Z', 'Z'),
        new Date(t * 1000).toISOString(),
        new Date(t * 1000).toISOString().slice(0, 10),
        new Date(t * 1000 + 3_600_000).toISOString().replace('.000Z', '+01:00'),
      ),
    );
  const dateOp = fc
    .tuple(
      fc.constantFrom('DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'),
      fc.boolean(),
    )
    .map(([op, ifExists]) => `${op}${ifExists ? 'IfExists' : ''}`);
  it('Date*: never grant where AWS refuses', async () => {
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(
        dateOp,
        fc.array(instant, { minLength: 1, maxLength: 2 }),
        fc.option(instant, { nil: undefined }),
        async (op, values, now) => {
          const claims = now === undefined ? {} : { 'aws:CurrentTime': now };
          if (!fedbrokerGrants({ [op]: { 'aws:CurrentTime': values } }, claims)) return;
          granted++;
          expect(await awsGrants({ [op]: { 'aws:CurrentTime': values } }, now === undefined ? {} : { 'aws:CurrentTime': now })).toBe(true);
        },
      ),
      { numRuns: 600 },
    );
    expect(granted).toBeGreaterThan(40);
  });

  const address = fc.constantFrom(
    '203.0.113.7',
    '203.0.113.200',
    '198.51.100.1',
    '2001:db8::1',
    '2001:db8:ffff::1',
    '::1',
    '10.0.0.1',
    'junk',
  );
  const range = fc.constantFrom(
    '203.0.113.0/24',
    '203.0.113.0/25',
    '203.0.113.7',
    '203.0.113.7/32',
    '198.51.100.0/24',
    '2001:db8::/32',
    '2001:db8::1',
    '2001:db8::1/128',
    '0.0.0.0/0',
    '::/0',
    '10.0.0.1/8',
  );
  it('IpAddress/NotIpAddress: never grant where AWS refuses', async () => {
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('IpAddress', 'NotIpAddress', 'IpAddressIfExists', 'NotIpAddressIfExists'),
        fc.array(range, { minLength: 1, maxLength: 3 }),
        fc.option(address, { nil: undefined }),
        async (op, values, ip) => {
          const claims = ip === undefined ? {} : { 'aws:SourceIp': ip };
          if (!fedbrokerGrants({ [op]: { 'aws:SourceIp': values } }, claims)) return;
          granted++;
          expect(await awsGrants({ [op]: { 'aws:SourceIp': values } }, ip === undefined ? {} : { 'aws:SourceIp': ip })).toBe(true);
        },
      ),
      { numRuns: 600 },
    );
    expect(granted).toBeGreaterThan(40);
  });
});
