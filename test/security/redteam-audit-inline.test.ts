// "No record, no grant" (threat model I5) against the local audit copy. With the audit lines
// silenced (POWERTOOLS_LOG_LEVEL=SILENT, the tests' setting) and FEDBROKER_AUDIT_TABLE_WRITE=inline
// (or `file`, the same background copy to files), a grant's only record is the background copy
// this process holds in memory: the trail reports it stored before any table write, and a
// failing table never fails the grant. Local runs and tests accept that (residual in the threat
// model); a deployed function must never run that way, where Lambda freezes the environment after
// the response and may discard it with the pending copy.
import { describe, expect, it } from 'vitest';
import { InlineAuditProjection } from '../../lib/audit/inline-projection.ts';
import type { AuditEntry, AuditTableWriter } from '../../lib/audit/ports.ts';
import { auditLinesSilenced, LogAuditSink } from '../../lib/audit/sinks.ts';
import { AuditTrail } from '../../lib/audit/trail.ts';
import { loadConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

const base = { FEDBROKER_TABLE: 'fedbroker-dev', FEDBROKER_ISSUER: 'https://id.example.com', FEDBROKER_KMS_KEY_ID: 'alias/fedbroker' };
const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'fedbroker-prod-token', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

describe('the inline audit copy', () => {
  it('with lines silenced, admits a grant whose record exists only in memory (why it is refused in Lambda)', async () => {
    expect(auditLinesSilenced).toBe(true);
    const attempted: AuditEntry[] = [];
    const failing: AuditTableWriter = {
      putAll: (entries) => {
        attempted.push(...entries);
        return Promise.reject(new Error('table unavailable'));
      },
    };
    const copy = new InlineAuditProjection(failing);
    const trail = new AuditTrail({
      sink: new LogAuditSink({ copy: (l) => copy.add(l) }),
      clock: { now: () => Date.now() },
      retentionDays: 1,
    });
    await expect(
      trail.record({ event: 'token.exchange', outcome: 'success', tenant: 'acme', principal: 'acme/x', trust: 'ci' }),
    ).resolves.toBeUndefined();
    // Granted first; the copy is tried afterwards, fails, and nothing else holds the record.
    await copy.drain();
    expect(attempted).toHaveLength(1);
  });

  it.each([
    ['inside Lambda', lambda],
    ['when only the function name shows Lambda', { AWS_LAMBDA_FUNCTION_NAME: 'fedbroker-prod-token' }],
    ['when only the execution environment shows Lambda', { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }],
  ])('is refused %s, as local mode is, to the table or to files', (_name, runtimeEnv) => {
    expect(() => loadConfig({ ...base, ...runtimeEnv, FEDBROKER_AUDIT_TABLE_WRITE: 'inline' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...runtimeEnv, FEDBROKER_AUDIT_TABLE_WRITE: 'file' })).toThrow(ConfigError);
    expect(loadConfig({ ...base, ...runtimeEnv }).auditTableWrite).toBe('subscription');
  });

  it('is accepted outside Lambda (npm start: file, tests: inline)', () => {
    expect(loadConfig({ ...base, FEDBROKER_AUDIT_TABLE_WRITE: 'inline' }).auditTableWrite).toBe('inline');
    expect(loadConfig({ ...base, FEDBROKER_AUDIT_TABLE_WRITE: 'file' }).auditTableWrite).toBe('file');
  });
});
