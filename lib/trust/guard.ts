/**
 * The public-issuer guard: a relationship trusting an issuer shared by everyone on the internet
 * must pin the token's owner (organisation, group, account) from the start of an identifying claim,
 * or "any repository on GitHub can get in".
 *
 * The rule is semantic, not a count of literal characters: `StringLike sub "*:ref:refs/heads/main"`
 * has many literal characters yet matches every repository on GitHub. A condition pair pins when
 * - it is a positive String operator (`StringEquals`, `StringEqualsIgnoreCase`, `StringLike`, or
 *   their `ForAnyValue:`/`ForAllValues:` forms), not negated and not `IfExists`;
 * - its key resolves to an identifying claim of the issuer, compared as the evaluator resolves it
 *   (`/sub` ≡ `sub` ≡ `SUB`; a dotted key with several segments never counts);
 * - and every one of its values starts with a literal owner prefix ending at its delimiter
 *   (`repo:acme/…`) or, for claims that name the owner alone, is exact (no wildcard).
 * One such pair suffices (pairs are ANDed). `job_workflow_ref` does not count: acme's reusable
 * workflow can be called from any repository on GitHub, and the claim then names acme's workflow.
 */
import type { CompiledConditions, Pin } from './conditions.ts';

type Rule = { prefix: RegExp } | { exact: true };
const exact: Rule = { exact: true };
// Owner and group names: at least one character, no delimiter, nothing that could be a wildcard.
const OWNER = '[^/:*?]+';
const DIGITS = '\\d+';
const startsWith = (...forms: string[]): Rule => ({ prefix: new RegExp(`^(?:${forms.join('|')})`) });

interface PublicIssuer {
  name: string;
  pins: Record<string, Rule>;
  example: string;
}

/**
 * Issuers shared by everyone on the internet, with what pins a relationship to one owner.
 * GitHub: "About security hardening with OpenID Connect" → example subject claims and customizing
 * the subject claim (a custom template starts with the first included claim, e.g.
 * `repository_owner:acme:…`). GitLab: "OpenID Connect (OIDC) Authentication Using ID Tokens".
 */
const PUBLIC_ISSUERS: Record<string, PublicIssuer> = {
  'https://token.actions.githubusercontent.com': {
    name: 'GitHub Actions',
    pins: {
      sub: startsWith(
        `repo:${OWNER}/`,
        `repository_owner:${OWNER}:`,
        `repository_owner_id:${DIGITS}:`,
        `repository:${OWNER}/`,
        `repository_id:${DIGITS}:`,
      ),
      repository: startsWith(`${OWNER}/`),
      repository_owner: exact,
      repository_owner_id: exact,
      repository_id: exact,
    },
    example: '{"StringLike": {"sub": "repo:acme/*"}} or {"StringEquals": {"repository_owner": "acme"}}',
  },
  'https://gitlab.com': {
    name: 'GitLab.com',
    pins: {
      sub: startsWith(`project_path:${OWNER}/`),
      // A project's path starts with its group's (`acme/app`, `acme/sub/app`).
      project_path: startsWith(`${OWNER}/`),
      namespace_path: exact,
      namespace_id: exact,
      project_id: exact,
    },
    example: '{"StringLike": {"sub": "project_path:acme/*"}} or {"StringEquals": {"namespace_path": "acme"}}',
  },
  // HCP Terraform, "Workload identity": sub = organization:<org>:project:<project>:workspace:<ws>:run_phase:<phase>.
  'https://app.terraform.io': {
    name: 'HCP Terraform',
    pins: { sub: startsWith(`organization:${OWNER}:`), terraform_organization_id: exact, terraform_organization_name: exact },
    example: '{"StringLike": {"sub": "organization:acme:*"}} or {"StringEquals": {"terraform_organization_name": "acme"}}',
  },
  // Buildkite, "OIDC with Buildkite": sub = organization:<slug>:pipeline:<slug>:ref:…; one issuer for every organization.
  'https://agent.buildkite.com': {
    name: 'Buildkite',
    pins: { sub: startsWith(`organization:${OWNER}:`), organization_slug: exact, organization_id: exact },
    example: '{"StringLike": {"sub": "organization:acme:*"}} or {"StringEquals": {"organization_slug": "acme"}}',
  },
  'https://accounts.google.com': {
    name: 'Google accounts',
    pins: { sub: exact, email: exact, hd: exact },
    example: '{"StringEquals": {"hd": "acme.com"}}',
  },
  'https://cognito-identity.amazonaws.com': {
    name: 'Amazon Cognito',
    pins: { sub: exact, aud: exact },
    example: '{"StringEquals": {"aud": "<identity pool id>"}}',
  },
};

const ascii = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) | 0x20));

function pinned(rule: Rule, pin: Pin, ignoreCase: boolean): boolean {
  if ('exact' in rule) return pin.exact && pin.prefix.length > 0;
  return rule.prefix.test(ignoreCase ? ascii(pin.prefix) : pin.prefix);
}

/** True when some condition pair pins the token's owner (see the module comment). */
function pinsOwner(issuer: PublicIssuer, compiled: CompiledConditions): boolean {
  return compiled.conditions.some((c) => {
    if (c.negated || c.ifExists || (c.family !== 'string' && c.family !== 'like') || c.path.parts.length !== 1) return false;
    const name = ascii(c.path.parts[0] as string);
    const rule = Object.hasOwn(issuer.pins, name) ? issuer.pins[name] : undefined;
    return rule !== undefined && c.pins.length > 0 && c.pins.every((p) => pinned(rule, p, c.ignoreCase));
  });
}

/** The issue to report when a relationship trusts a public issuer without pinning an owner. */
export function checkPublicIssuer(issuer: string, compiled: CompiledConditions, issues: string[]): void {
  const known = PUBLIC_ISSUERS[issuer.replace(/\/+$/, '')];
  if (!known || pinsOwner(known, compiled)) return;
  issues.push(
    `conditions: ${known.name} is a shared public issuer; pin the owner with a positive StringEquals/StringLike condition ` +
      `(not negated, not IfExists) whose every value fixes ${Object.keys(known.pins).join(', ')} from its start, e.g. ${known.example}; ` +
      `otherwise anyone on ${known.name} could get in`,
  );
}
