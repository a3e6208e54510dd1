import { describe, expect, it } from 'vitest';
import { encodeCursor, parseAuditQuery } from '../../../lib/audit/query.ts';
import type { AuditRecord, AuditSink } from '../../../lib/audit/ports.ts';
import { auditedExchange } from '../../../lib/handlers/audit.ts';
import { REFUSAL_RECORDS_PER_MINUTE } from '../../../lib/audit/refusal-limiter.ts';
import { AuditTrail, sanitize } from '../../../lib/audit/trail.ts';
import { InvalidScope, ServiceUnavailable } from '../../../lib/errors.ts';
import type { ExchangeOutcome } from '../../../lib/app/exchange.ts';
import { audienceDimension } from '../../../lib/metrics.ts';
import { TOKEN_TYPE } from '../../../lib/tokens/types.ts';
import { b64url } from '../../support/jws.ts';

const clock = { now: () => Date.parse('2025-03-01T12:00:00.000Z') };

function sink(fail = false) {
  const written: { record: AuditRecord; expiresAt: number; id: string }[] = [];
  const s: AuditSink = {
    write: ({ id, expires_at: expiresAt, ...record }) => {
      if (fail) throw new Error('log unavailable');
      written.push({ record, expiresAt, id });
    },
  };
  return { sink: s, written };
}

const granted: ExchangeOutcome = {
  response: {
    access_token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig',
    issued_token_type: TOKEN_TYPE.accessToken,
    token_type: 'Bearer',
    expires_in: 900,
  },
  principal: { tenant: 'acme', sub: 'acme/ci/x', trust: 'ci', generation: 'g1', scopes: ['id-token:issue'], tags: undefined },
  jti: '6f1c1c1e-8c1a-4a57-9a6e-2b1f0a9b7c55',
  source: { issuer: 'https://token.example', subject: 'x' },
};
const form = { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', tenant: 'acme' };
const N = REFUSAL_RECORDS_PER_MINUTE;

/** A token that names whatever the attacker likes; its signature is never looked at here. */
const forged = (typ: string, claims: Record<string, unknown>) => `${b64url({ alg: 'RS256', typ, kid: 'k' })}.${b64url(claims)}.c2ln`;
const forgedAccessToken = forged('at+jwt', {
  iss: 'https://issuer',
  sub: 'acme/admin/admin-a',
  tenant_id: 'acme',
  trust: 'admin',
  scope: 'trust:admin',
});
const refusing = async () => Promise.reject(new InvalidScope('nope'));
const UNVERIFIED_AS_VERIFIED = ['principal', 'trust', 'source_issuer', 'source_subject'];

describe('AuditTrail', () => {
  it('stores the record with the time and an expiry of now + retention', async () => {
    const s = sink();
    await new AuditTrail({ sink: s.sink, clock, retentionDays: 90 }).record({
      event: 'token.exchange',
      outcome: 'success',
      tenant: 'acme',
    });
    expect(s.written).toEqual([
      {
        record: { time: '2025-03-01T12:00:00.000Z', event: 'token.exchange', outcome: 'success', tenant: 'acme' },
        expiresAt: clock.now() / 1000 + 90 * 86400,
        id: expect.stringMatching(/^2025-03-01T12:00:00\.000Z#[0-9a-f]{12}$/),
      },
    ]);
  });

  it('fails closed: record() throws ServiceUnavailable (503) when the record cannot be stored', async () => {
    const trail = new AuditTrail({ sink: sink(true).sink, clock, retentionDays: 90 });
    await expect(trail.record({ event: 'token.exchange', outcome: 'success', tenant: 'acme' })).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('records what already happened best effort: recordApplied() resolves false instead of throwing', async () => {
    const trail = new AuditTrail({ sink: sink(true).sink, clock, retentionDays: 90 });
    await expect(trail.recordApplied({ event: 'tenant.disable', outcome: 'success', tenant: 'acme' })).resolves.toBe(false);
  });

  it('records a key state change under _system, as the rotation code reports it', async () => {
    const s = sink();
    const { keyEvent } = new AuditTrail({ sink: s.sink, clock, retentionDays: 1 });
    await keyEvent({ kid: 'k1', from: 'next', to: 'active', forced: true, actor: 'schedule' });
    expect(s.written[0]?.record).toMatchObject({
      event: 'key.state_change',
      tenant: '_system',
      principal: 'schedule',
      target: 'k1',
      detail: { from: 'next', to: 'active', forced: true },
    });
  });
});

describe('AuditTrail.recordRefusal', () => {
  it(`writes ${N} refusal records per tenant and source, then carries the suppressed count on the next one, with its detail`, async () => {
    let now = clock.now();
    const s = sink();
    const trail = new AuditTrail({ sink: s.sink, clock: { now: () => now }, retentionDays: 1 });
    const refusal = {
      event: 'cognito_token.issue' as const,
      outcome: 'refused' as const,
      tenant: 'acme',
      source_ip: '203.0.113.7',
      detail: { source_jti: 'j' },
    };
    const results = [];
    for (let i = 0; i < N + 4; i++) results.push(await trail.recordRefusal(refusal));
    expect(results.filter(Boolean)).toHaveLength(N);
    expect(s.written).toHaveLength(N);
    expect(s.written.every((w) => w.record.detail?.suppressed === undefined)).toBe(true);
    now += 60_000;
    await trail.recordRefusal(refusal);
    expect(s.written.at(-1)?.record.detail).toEqual({ source_jti: 'j', suppressed: 4 });
  });

  it('never suppresses grants or changes already applied, however many come from one source', async () => {
    const s = sink();
    const trail = new AuditTrail({ sink: s.sink, clock, retentionDays: 1 });
    for (let i = 0; i < N + 5; i++) {
      await auditedExchange(
        { audit: trail, issuer: 'https://issuer', tenantExists: async () => true },
        { source_ip: '203.0.113.7' },
        () => form,
        async () => granted,
      );
      await trail.recordApplied({ event: 'token.revoke', outcome: 'success', tenant: 'acme', source_ip: '203.0.113.7' });
    }
    expect(s.written).toHaveLength(2 * (N + 5));
  });
});

describe('sanitize', () => {
  it('scrubs anything token-shaped, strips control characters and caps lengths', () => {
    const record = sanitize({
      time: 't',
      event: 'token.exchange',
      outcome: 'refused',
      tenant: 'acme',
      source_subject: 'a\u0000eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      audience: 'x'.repeat(1000),
      scopes: ['eyJa.b.c', ...Array.from({ length: 20 }, () => 's')],
      detail: { note: 'eyJx.y.z' },
      trust: '',
    });
    expect(record.source_subject).toBe('a[jwt]');
    expect(record.audience).toHaveLength(256);
    expect(record.scopes).toHaveLength(10);
    expect(record).not.toHaveProperty('trust');
    expect(JSON.stringify(record)).not.toMatch(/eyJ[\w-]*\.[\w-]*\./);
  });

  it.each([
    ['a token split by a control character', 'ey\u0001JhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig', '[jwt]'],
    ['a control character alone', 'repo:acme/app\u007f', 'repo:acme/app'],
    ['a clean value', 'repo:acme/app:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/main'],
  ])('scrubs %s as if control characters were never there', (_, value, expected) => {
    expect(sanitize({ time: 't', event: 'token.exchange', outcome: 'refused', tenant: 'acme', source_subject: value }).source_subject).toBe(
      expected,
    );
  });
});

describe('auditedExchange', () => {
  it('withholds a granted token when its audit record cannot be stored (503)', async () => {
    const trail = new AuditTrail({ sink: sink(true).sink, clock, retentionDays: 90 });
    const run = auditedExchange(
      { audit: trail, issuer: 'https://issuer', tenantExists: async () => true },
      {},
      () => form,
      async () => granted,
    );
    await expect(run).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('rethrows a refusal unchanged, even when its record cannot be stored', async () => {
    const trail = new AuditTrail({ sink: sink(true).sink, clock, retentionDays: 90 });
    const refusal = new InvalidScope('nope');
    await expect(
      auditedExchange(
        { audit: trail, issuer: 'https://issuer', tenantExists: async () => true },
        {},
        () => form,
        async () => Promise.reject(refusal),
      ),
    ).rejects.toBe(refusal);
  });

  it('records a grant with the principal, source and jti, never the token', async () => {
    const s = sink();
    const trail = new AuditTrail({ sink: s.sink, clock, retentionDays: 90 });
    await auditedExchange(
      { audit: trail, issuer: 'https://issuer', tenantExists: async () => true },
      { request_id: 'r1', source_ip: '10.0.0.1' },
      () => form,
      async () => granted,
    );
    expect(s.written[0]?.record).toMatchObject({
      event: 'token.exchange',
      outcome: 'success',
      tenant: 'acme',
      jti: granted.jti,
      audience: 'https://issuer',
      request_id: 'r1',
      source_ip: '10.0.0.1',
    });
    expect(JSON.stringify(s.written)).not.toContain('eyJ');
  });
});

describe('auditedExchange records what a refused token claimed as claimed_*, never as verified', () => {
  const refused = async (params: Record<string, string>) => {
    const s = sink();
    const trail = new AuditTrail({ sink: s.sink, clock, retentionDays: 1 });
    await expect(
      auditedExchange(
        { audit: trail, issuer: 'https://issuer', tenantExists: async () => true },
        { source_ip: '203.0.113.7' },
        () => params,
        refusing,
      ),
    ).rejects.toBeInstanceOf(InvalidScope);
    expect(s.written).toHaveLength(1);
    return s.written[0]!.record;
  };

  it('regression: a forged at+jwt naming no tenant parameter goes to _unknown, its tenant_id, sub and trust under claimed_*', async () => {
    const record = await refused({
      grant_type: form.grant_type,
      subject_token: forgedAccessToken,
      subject_token_type: TOKEN_TYPE.accessToken,
    });
    expect(record).toMatchObject({
      tenant: '_unknown',
      outcome: 'refused',
      claimed_tenant: 'acme',
      claimed_principal: 'acme/admin/admin-a',
      claimed_trust: 'admin',
      claimed_issuer: 'https://issuer',
      claimed_subject: 'acme/admin/admin-a',
    });
    for (const field of UNVERIFIED_AS_VERIFIED) expect(record).not.toHaveProperty(field);
  });

  it('regression: a refused external token keeps the tenant parameter as its partition, its iss and sub under claimed_*', async () => {
    const token = forged('JWT', { iss: 'https://token.actions.githubusercontent.com', sub: 'repo:acme/app', tenant_id: 'globex' });
    const record = await refused({ ...form, subject_token: token, subject_token_type: TOKEN_TYPE.idToken });
    expect(record).toMatchObject({
      tenant: 'acme',
      claimed_issuer: 'https://token.actions.githubusercontent.com',
      claimed_subject: 'repo:acme/app',
    });
    // An external token's tenant_id claim means nothing to fedbroker.
    expect(record).not.toHaveProperty('claimed_tenant');
    expect(record).not.toHaveProperty('claimed_principal');
    for (const field of UNVERIFIED_AS_VERIFIED) expect(record).not.toHaveProperty(field);
  });

  it('files a forged at+jwt under the tenant the request named, still all claimed', async () => {
    const record = await refused({
      ...form,
      tenant: 'globex',
      subject_token: forgedAccessToken,
      subject_token_type: TOKEN_TYPE.accessToken,
    });
    expect(record).toMatchObject({ tenant: 'globex', claimed_tenant: 'acme', claimed_principal: 'acme/admin/admin-a' });
    for (const field of UNVERIFIED_AS_VERIFIED) expect(record).not.toHaveProperty(field);
  });

  it('files a refusal under _unknown when the tenant parameter is not a tenant id', async () => {
    const record = await refused({
      ...form,
      tenant: 'AUDIT#acme',
      subject_token: forgedAccessToken,
      subject_token_type: TOKEN_TYPE.accessToken,
    });
    expect(record.tenant).toBe('_unknown');
  });
});

describe('parseAuditQuery', () => {
  const now = Date.parse('2025-03-10T00:00:00.000Z');
  it('defaults to the last 24 hours and 50 records', () => {
    expect(parseAuditQuery(undefined, now)).toEqual({ since: '2025-03-09T00:00:00.000Z', until: '2025-03-10T00:00:00.000Z', limit: 50 });
  });
  it('normalises times to UTC ISO and reads a cursor back', () => {
    const q = parseAuditQuery({ since: '2025-03-01T01:00:00+01:00', cursor: encodeCursor('2025-03-02T00:00:00.000Z#0123456789ab') }, now);
    expect(q).toMatchObject({ since: '2025-03-01T00:00:00.000Z', after: '2025-03-02T00:00:00.000Z#0123456789ab' });
  });
  it.each([
    [{ since: '2025-02-01T00:00:00Z' }],
    [{ since: '2025-03-10T00:00:00Z' }],
    [{ limit: '201' }],
    [{ limit: '1e2' }],
    [{ cursor: 'not-a-cursor' }],
    [{ until: 'tomorrow' }],
  ])('refuses %j', (params) => {
    expect(() => parseAuditQuery(params, now)).toThrow(/since|limit|cursor|until/);
  });
});

describe('audienceDimension', () => {
  it('keeps known audiences and fedbroker itself, and buckets the rest as other', () => {
    expect(audienceDimension('https://issuer', 'https://issuer')).toBe('fedbroker');
    expect(audienceDimension('sts.amazonaws.com', 'https://issuer')).toBe('sts.amazonaws.com');
    expect(audienceDimension('api://billing-7f3a', 'https://issuer')).toBe('other');
  });
});
