import { describe, expect, it } from 'vitest';
import { validateRelationship } from '../../../lib/trust/policy.ts';

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
    expect(validateRelationship(base, options)).toMatchObject({ subject_template: '{trust}/{claims.sub}', id_token_audiences: ['sts.amazonaws.com'], enabled: true });
  });

  it.each([
    ['a repository pinned by sub', { StringLike: { sub: 'repo:acme/app:*' } }],
    ['an owner pinned by repository_owner', { StringEquals: { repository_owner: 'acme-corp' } }],
    ['an owner id pinned with a list of values', { StringEquals: { repository_owner_id: ['1234567', '7654321'] } }],
  ])('accepts GitHub Actions with %s', (_name, conditions) => {
    expect(validateRelationship({ ...github, conditions }, options).kind).toBe('oidc');
  });

  it.each([
    ['no conditions', {}],
    ['only a negated condition', { StringNotEquals: { sub: 'repo:evil/x' } }],
    ['sub pinned to repo:*', { StringLike: { sub: 'repo:*' } }],
    ['sub pinned to *', { StringLike: { sub: '*' } }],
    ['one specific value ORed with repo:*', { StringLike: { sub: ['repo:acme/app:*', 'repo:*'] } }],
    ['a non-identifying claim only', { StringEquals: { ref: 'refs/heads/main' } }],
    ['an IfExists condition on sub', { StringLikeIfExists: { sub: 'repo:acme/app:*' } }],
  ])('refuses GitHub Actions with %s', (_name, conditions) => {
    expect(issues({ ...github, conditions })).toMatch(/shared public issuer/);
  });

  it('refuses a document with a __proto__ member, which schema parsing would silently drop', () => {
    const raw = JSON.parse('{"kind":"oidc","issuer":"https://issuer.example.com","audiences":["a"],"scopes":["id-token:issue"],"conditions":{"__proto__":{"StringEquals":{"sub":"x"}}}}');
    expect(issues(raw)).toMatch(/__proto__/);
  });

  it('refuses a kind "oidc" relationship naming the Cognito issuer', () => {
    expect(issues({ ...base, issuer: 'https://cognito-identity.amazonaws.com' })).toMatch(/aws-cognito/);
  });

  it('refuses an audience with control characters', () => {
    expect(issues({ ...base, audiences: ['fed\u0000broker'] })).toMatch(/control characters/);
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
