import { describe, expect, it } from 'vitest';
import { validateRelationship } from '../../../lib/trust/validate.ts';

const options = { local: false, cognitoIssuer: 'https://cognito-identity.amazonaws.com' };
const base = { kind: 'oidc', issuer: 'https://issuer.example.com', audiences: ['fedbroker'], scopes: ['id-token:issue'] };
const github = { ...base, issuer: 'https://token.actions.githubusercontent.com' };

function issues(doc: unknown): string {
  try {
    validateRelationship(doc, options);
  } catch (e) {
    expect(e).toMatchObject({ code: 'ERR_POLICY_INVALID' });
    return (e as Error).message;
  }
  throw new Error('expected the document to be refused');
}

describe('validateRelationship', () => {
  it('accepts a private issuer without conditions and fills the defaults', () => {
    expect(validateRelationship(base, options)).toMatchObject({
      subject_template: '{trust}/{claims.sub}',
      id_token_audiences: ['sts.amazonaws.com'],
      enabled: true,
    });
  });

  it.each([
    ['a repository pinned by sub', { StringLike: { sub: 'repo:acme/app:*' } }],
    ['an owner pinned by sub', { StringLike: { sub: 'repo:acme/*' } }],
    ['a short owner pinned by repository_owner', { StringEquals: { repository_owner: 'acme' } }],
    ['an owner id pinned with a list of values', { StringEquals: { repository_owner_id: ['1234567', '7654321'] } }],
    ['a repository id', { StringEquals: { repository_id: '42' } }],
    ['repository pinned to an owner', { StringLike: { repository: 'acme/*' } }],
    ['a custom sub template starting with repository_owner', { StringLike: { sub: 'repository_owner:acme:*' } }],
    ['a custom sub template starting with repository_owner_id', { StringLike: { sub: 'repository_owner_id:1234:*' } }],
    ['a custom sub template starting with repository', { StringLike: { sub: 'repository:acme/app:*' } }],
    ['a custom sub template starting with repository_id', { StringLike: { sub: 'repository_id:42:environment:*' } }],
    ['an exact sub', { StringEquals: { sub: 'repo:acme/app:ref:refs/heads/main' } }],
    ['a sub pinned case-insensitively', { StringEqualsIgnoreCase: { sub: 'REPO:Acme/App:ref:refs/heads/main' } }],
    ['a set operator whose every value pins', { 'ForAnyValue:StringLike': { sub: ['repo:acme/*', 'repo:acme-labs/*'] } }],
    ['the key as a JSON pointer', { StringLike: { '/sub': 'repo:acme/*' } }],
    ['the key in another case', { StringEquals: { Repository_Owner: 'acme' } }],
    [
      'a pin next to other conditions',
      { StringEquals: { repository_owner: 'acme', ref: 'refs/heads/main' }, StringNotLike: { sub: '*:pull_request' } },
    ],
  ])('accepts GitHub Actions with %s', (_name, conditions) => {
    expect(validateRelationship({ ...github, conditions }, options).kind).toBe('oidc');
  });

  it.each([
    ['GitLab sub pinned to a group', 'https://gitlab.com', { StringLike: { sub: 'project_path:acme/*' } }],
    ['GitLab project_path pinned to a group', 'https://gitlab.com', { StringLike: { project_path: 'acme/*' } }],
    ['GitLab namespace_id', 'https://gitlab.com', { StringEquals: { namespace_id: '77' } }],
    ['Google accounts hd', 'https://accounts.google.com', { StringEquals: { hd: 'acme.com' } }],
    ['Google accounts email', 'https://accounts.google.com', { StringEquals: { email: 'ci@acme.com' } }],
    ['HCP Terraform sub pinned to an organization', 'https://app.terraform.io', { StringLike: { sub: 'organization:acme:project:*' } }],
    ['HCP Terraform organization name', 'https://app.terraform.io', { StringEquals: { terraform_organization_name: 'acme' } }],
    [
      'Buildkite sub pinned to an organization',
      'https://agent.buildkite.com',
      { StringLike: { sub: 'organization:acme:pipeline:deploy:*' } },
    ],
    ['Buildkite organization slug', 'https://agent.buildkite.com', { StringEquals: { organization_slug: 'acme' } }],
  ])('accepts %s', (_name, issuer, conditions) => {
    expect(validateRelationship({ ...github, issuer, conditions }, options).kind).toBe('oidc');
  });

  it.each([
    ['GitLab sub with any group', 'https://gitlab.com', { StringLike: { sub: '*:ref_type:branch:ref:main' } }, 'GitLab.com'],
    ['GitLab project_path without its group delimiter', 'https://gitlab.com', { StringLike: { project_path: 'acme*' } }, 'GitLab.com'],
    ['Google accounts hd with a wildcard', 'https://accounts.google.com', { StringLike: { hd: '*.com' } }, 'Google accounts'],
    ['HCP Terraform without conditions (review: any organization)', 'https://app.terraform.io', {}, 'HCP Terraform'],
    [
      'HCP Terraform sub with any organization',
      'https://app.terraform.io',
      { StringLike: { sub: '*:workspace:prod:run_phase:apply' } },
      'HCP Terraform',
    ],
    ['Buildkite without conditions (review: any organization)', 'https://agent.buildkite.com', {}, 'Buildkite'],
    [
      'Buildkite sub with an organization prefix cut short',
      'https://agent.buildkite.com',
      { StringLike: { sub: 'organization:acme*' } },
      'Buildkite',
    ],
  ])('refuses %s', (_name, issuer, conditions, name) => {
    expect(issues({ ...github, issuer, conditions })).toContain(`conditions: ${name} is a shared public issuer; pin the owner`);
  });

  const refusal =
    'conditions: GitHub Actions is a shared public issuer; pin the owner with a positive StringEquals/StringLike ' +
    'condition (not negated, not IfExists) ' +
    'whose every value fixes sub, repository, repository_owner, repository_owner_id, repository_id from its start, e.g. ' +
    '{"StringLike": {"sub": "repo:acme/*"}} or {"StringEquals": {"repository_owner": "acme"}}; ' +
    'otherwise anyone on GitHub Actions could get in';
  it.each([
    ['no conditions', {}],
    ['only a negated condition', { StringNotEquals: { sub: 'repo:evil/x' } }],
    ['sub pinned to repo:*', { StringLike: { sub: 'repo:*' } }],
    ['sub pinned to *', { StringLike: { sub: '*' } }],
    ['one specific value ORed with repo:*', { StringLike: { sub: ['repo:acme/app:*', 'repo:*'] } }],
    ['a non-identifying claim only', { StringEquals: { ref: 'refs/heads/main' } }],
    ['an IfExists condition on sub', { StringLikeIfExists: { sub: 'repo:acme/app:*' } }],
    // Each of these means "any repository on GitHub" and was accepted by the literal-length guard.
    ['sub ending in a ref, owner left open', { StringLike: { sub: '*:ref:refs/heads/main' } }],
    ['repository with any owner', { StringLike: { repository: '*/infra' } }],
    ['a set operator with any owner', { 'ForAnyValue:StringLike': { sub: '*:pull_request' } }],
    ['an owner prefix without its delimiter (acme-evil matches too)', { StringLike: { sub: 'repo:acme*' } }],
    ['a wildcard inside the owner', { StringLike: { sub: 'repo:ac?e/*' } }],
    ['an owner with a wildcard', { StringLike: { repository_owner: 'acme*' } }],
    [
      'job_workflow_ref (a reusable workflow is callable from any repository)',
      { StringEquals: { job_workflow_ref: 'acme/wf/.github/workflows/deploy.yml@refs/heads/main' } },
    ],
    ['a custom sub template that does not start with the owner', { StringLike: { sub: 'environment:prod:repo:acme/*' } }],
    ['a dotted key that is not the claim itself', { StringEquals: { 'repository_owner.x': 'acme' } }],
    ['an exact sub that names no owner', { StringEquals: { sub: 'environment:prod' } }],
  ])('refuses GitHub Actions with %s', (_name, conditions) => {
    expect(issues({ ...github, conditions })).toContain(refusal);
  });

  it('refuses a document with a __proto__ member, which schema parsing would silently drop', () => {
    const raw = JSON.parse(
      '{"kind":"oidc","issuer":"https://issuer.example.com","audiences":["a"],"scopes":["id-token:issue"],' +
        '"conditions":{"__proto__":{"StringEquals":{"sub":"x"}}}}',
    );
    expect(issues(raw)).toMatch(/__proto__/);
  });

  it('refuses a kind "oidc" relationship naming the Cognito issuer', () => {
    expect(issues({ ...base, issuer: 'https://cognito-identity.amazonaws.com' })).toMatch(/aws-cognito/);
  });

  it('refuses an audience with control characters', () => {
    expect(issues({ ...base, audiences: ['fed\u0000broker'] })).toMatch(/control characters/);
  });

  it('refuses an ID token audience with a policy variable', () => {
    expect(issues({ ...base, id_token_audiences: ['sts.amazonaws.com', 'https://${aws:username}'] })).toContain(
      'id_token_audiences[1]: must not contain a policy variable ("${…}")',
    );
  });

  it('refuses a duplicate scope', () => {
    expect(issues({ ...base, scopes: ['id-token:issue', 'id-token:issue'] })).toMatch(/duplicate scope/);
  });

  it('refuses session tag keys that differ only in case', () => {
    expect(issues({ ...base, session_tags: { Team: { claim: 'a' }, team: { claim: 'b' } } })).toMatch(/case-insensitive/);
  });

  it('lists every problem at once', () => {
    const message = issues({ ...base, issuer: 'http://10.0.0.1', subject_template: '{nope}', session_tags: { 'aws:x': { claim: 'sub' } } });
    expect(message).toMatch(/issuer/);
    expect(message).toMatch(/subject_template/);
    expect(message).toMatch(/reserved/);
  });
});
