import { SubjectTokenInvalid } from '../errors.ts';
import { readClaim } from './claims.ts';

const PLACEHOLDER = /\{([^{}]*)\}/g;
// C0/C1 controls, DEL, and Unicode line/paragraph separators and bidi overrides.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
export const MAX_SUBJECT_LENGTH = 255;

/** Checks a subject template when a relationship is stored: only known placeholders, no control characters. */
export function checkSubjectTemplate(template: string, issues: string[]): void {
  if (UNSAFE.test(template)) issues.push('subject_template: must not contain control characters');
  const stripped = template.replace(PLACEHOLDER, '');
  if (stripped.includes('{') || stripped.includes('}')) issues.push('subject_template: unbalanced braces');
  for (const [, name = ''] of template.matchAll(PLACEHOLDER)) {
    if (name !== 'trust' && name !== 'tenant' && !/^claims\.[^\s]{1,256}$/.test(name)) {
      issues.push(`subject_template: unknown placeholder {${name}} (use {trust}, {tenant} or {claims.<path>})`);
    }
  }
}

/**
 * Renders `sub` = `<tenant>/<template>`. The tenant prefix is added here, never by the template,
 * so no template or claim value can produce a subject outside its tenant. Claim values must be
 * strings (or numbers) without control characters; the result is at most 255 characters.
 */
export function renderSubject(template: string, ctx: { tenant: string; trust: string; claims: Record<string, unknown> }): string {
  let missing: string | undefined;
  const rendered = template.replace(PLACEHOLDER, (_m, name: string) => {
    if (name === 'trust') return ctx.trust;
    if (name === 'tenant') return ctx.tenant;
    const value = readClaim(ctx.claims, name.slice('claims.'.length));
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    missing = name;
    return '';
  });
  if (missing) throw new SubjectTokenInvalid('subject', `the token lacks the string claim the subject template needs (${missing})`);
  const sub = `${ctx.tenant}/${rendered}`;
  if (UNSAFE.test(sub) || sub.includes('\u0000')) throw new SubjectTokenInvalid('subject', 'the rendered subject contains control characters');
  if (sub.length > MAX_SUBJECT_LENGTH) throw new SubjectTokenInvalid('subject', `the rendered subject exceeds ${MAX_SUBJECT_LENGTH} characters`);
  return sub;
}

