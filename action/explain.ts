import { callBroker } from '../cli/http.ts';
import { decodeUnverified } from '../cli/output.ts';

/** The claims of a GitHub Actions token that trust conditions usually test; none of them is a secret. */
const SHOWN_CLAIMS = [
  'sub',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'ref',
  'ref_type',
  'environment',
  'event_name',
  'workflow_ref',
  'job_workflow_ref',
  'runner_environment',
  'aud',
  'iss',
];

interface Check {
  check: string;
  matched: boolean;
  operator?: string;
  key?: string;
  seen?: unknown;
  expected?: unknown;
}
interface Explanation {
  verified: boolean;
  reason?: string;
  relationships: { id: string; matched: boolean; checks: Check[] }[];
}

const show = (v: unknown) => JSON.stringify(v);

function describeCheck(c: Check): string {
  const name = c.check === 'condition' ? `condition ${c.operator ?? ''} ${c.key ?? ''}`.trimEnd() : c.check;
  const parts = [c.expected !== undefined ? `expected ${show(c.expected)}` : '', c.seen !== undefined ? `seen ${show(c.seen)}` : ''];
  const detail = parts.filter(Boolean).join(', ');
  return detail ? `${name}: ${detail}` : name;
}

/** The presented token's claims, one `name: value` line each: what the trust conditions were evaluated on. */
export function claimLines(token: string): string[] {
  const claims = decodeUnverified(token).payload;
  return SHOWN_CLAIMS.filter((k) => claims[k] !== undefined).map((k) => `  ${k}: ${show(claims[k])}`);
}

/**
 * Why the broker refused `token`: the tenant's `trust-relationships:explain` answer, which needs an
 * access token with scope trust:admin of the tenant (the exchange itself answers every refusal
 * with one message, so that it never tells an outsider which issuers and claims a tenant trusts).
 * Returns the lines for the log and a one-line summary for the error annotation.
 */
export async function explainRefusal(
  endpoint: string,
  tenant: string,
  token: string,
  adminToken: string,
): Promise<{ lines: string[]; summary: string }> {
  const res = await callBroker(endpoint, `/v1/tenants/${encodeURIComponent(tenant)}/trust-relationships:explain`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const e = res.body as Explanation;
  if (!e.verified) {
    const why = `the token was not verified (${e.reason ?? 'unknown reason'})`;
    return { lines: [why], summary: why };
  }
  const lines: string[] = [];
  const failures: string[] = [];
  for (const r of e.relationships) {
    const failed = r.checks.filter((c) => !c.matched);
    if (failed.some((c) => c.check === 'issuer')) {
      lines.push(`relationship ${r.id}: trusts another issuer`);
      continue;
    }
    lines.push(`relationship ${r.id}: ${r.matched ? 'matched' : 'not matched'}`);
    for (const c of failed) lines.push(`  FAIL ${describeCheck(c)}`);
    if (!r.matched && failed[0]) failures.push(`${r.id}: ${describeCheck(failed[0])}`);
  }
  if (!e.relationships.length) lines.push('the tenant has no trust relationships');
  return {
    lines,
    summary: failures.length ? failures.join('; ') : 'no relationship of the tenant trusts this token’s issuer and audience',
  };
}
