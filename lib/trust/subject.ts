import { SubjectTokenInvalid } from '../errors.ts';
import { readClaim } from './claims.ts';

const PLACEHOLDER = /\{([^{}]*)\}/g;
export const MAX_SUBJECT_LENGTH = 255;

/**
 * Characters a subject may not contain, each class with the reason a refusal gives. The subject
 * becomes the `sub` of fedbroker's tokens, which IAM compares in `<issuer>:sub` condition keys
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif)
 * and CloudTrail and the audit log record: what a person reads there must be what a policy compared. Hence, by Unicode General Category
 * (UAX #44 §5.7.1, https://www.unicode.org/reports/tr44/#General_Category_Values):
 * - Cc: C0/C1 controls, DEL — terminal escapes, line breaks in logs;
 * - Cf: zero-width space/joiners, bidi marks, embeddings, overrides and isolates, BOM, soft
 *   hyphen… — invisible, or reorder what is displayed (Trojan Source, CVE-2021-42574), so two
 *   subjects that look the same would not be;
 * - Zl/Zp: U+2028/U+2029, line breaks to JSON-in-JS and to log viewers;
 * - Cs: lone surrogates — not Unicode scalar values, so not representable in UTF-8 (RFC 3629 §3)
 *   and replaced or refused differently by every consumer;
 * - Co: private-use — meaning only by private agreement, rendered differently everywhere;
 * - Cn: unassigned (and noncharacters) — a later Unicode version may give them a meaning,
 *   display or normalisation this check cannot know of.
 * The order is the order of the checks: a character is reported under the first class it is in.
 */
const REFUSED: readonly (readonly [RegExp, string])[] = [
  [/\p{Cc}/u, 'control characters'],
  [/\p{Cf}/u, 'format characters (zero-width, bidi or other invisible characters)'],
  [/[\p{Zl}\p{Zp}]/u, 'line or paragraph separators'],
  [/\p{Cs}/u, 'lone surrogates'],
  [/\p{Co}/u, 'private-use characters'],
  [/\p{Cn}/u, 'unassigned code points'],
];

/** The first refused character class in `s`, as a reason; undefined when there is none. */
function refusedCharacters(s: string): string | undefined {
  return REFUSED.find(([re]) => re.test(s))?.[1];
}

/**
 * NFKC (UAX #15, https://www.unicode.org/reports/tr15/). A subject that is not already NFKC is
 * refused, never normalised: normalising would map two distinct upstream identities — `ﬁ` and
 * `fi`, fullwidth `ａｄｍｉｎ` and `admin`, `e`+U+0301 and `é` — onto one fedbroker subject, and
 * so onto the same AWS role sessions, trust conditions and audit trail.
 */
const isNfkc = (s: string) => s.normalize('NFKC') === s;

/**
 * A `.` or `..` segment: consumers that treat the subject as a path (S3 keys built from an
 * `${<issuer>:sub}` policy variable, URL paths, file names) may resolve it (RFC 3986 §5.2.4), letting a claim
 * value climb out of the part of the subject space its tenant or template gave it.
 */
const hasDotSegment = (s: string) => s.split('/').some((segment) => segment === '.' || segment === '..');

/**
 * Checks a subject template when a relationship is stored: only known placeholders, and the same
 * character, NFKC and segment rules as a rendered subject ({@link renderSubject}), so a template
 * that could never render an acceptable subject is refused up front.
 */
export function checkSubjectTemplate(template: string, issues: string[]): void {
  const refused = refusedCharacters(template);
  if (refused) issues.push(`subject_template: must not contain ${refused}`);
  else if (!isNfkc(template)) issues.push('subject_template: must be NFKC-normalised (write it as template.normalize("NFKC"))');
  // Placeholders stand for one opaque value each; only the literal segments are known here (a
  // value rendering to `.` or `..` is refused when rendered).
  if (hasDotSegment(template.replace(PLACEHOLDER, 'x'))) issues.push('subject_template: must not have a "." or ".." path segment');
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
 * strings (or numbers); the result must pass the character, NFKC and segment rules above and be
 * at most 255 characters. Any failure refuses the exchange (fails closed): nothing is stripped,
 * escaped or normalised into an acceptable subject.
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
  const refused = refusedCharacters(sub);
  if (refused) throw new SubjectTokenInvalid('subject', `the rendered subject contains ${refused}`);
  if (!isNfkc(sub)) throw new SubjectTokenInvalid('subject', 'the rendered subject is not NFKC-normalised');
  if (hasDotSegment(sub)) throw new SubjectTokenInvalid('subject', 'the rendered subject has a "." or ".." path segment');
  if (sub.length > MAX_SUBJECT_LENGTH)
    throw new SubjectTokenInvalid('subject', `the rendered subject exceeds ${MAX_SUBJECT_LENGTH} characters`);
  return sub;
}
