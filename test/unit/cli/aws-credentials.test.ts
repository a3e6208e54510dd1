import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromIni } from '@aws-sdk/credential-providers';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  credentialExports,
  credentialProcessJson,
  defaultSessionName,
  profileArgument,
  sessionNameArgument,
  shellQuote,
  withProfile,
} from '../../../cli/aws-credentials.ts';
import { awsErrorCode } from '../../../cli/aws-sdk.ts';

const creds = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'se/cr+et=',
  sessionToken: 'to/ken+==',
  expiration: new Date('2030-01-02T03:04:05.678Z'),
};
const STS_NAME = /^[\w+=,.@-]{2,64}$/;

describe('default STS session names', () => {
  it('name the tenant and the principal without the tenant prefix, then a hash of both', () => {
    expect(defaultSessionName('acme', 'acme/admin/ci-admin')).toBe('fedbroker.acme.admin-ci-admin.2e1759e705cf69c5');
  });

  it('replace characters STS refuses and cut the readable part to fit the hash', () => {
    const name = defaultSessionName('acme', 'acme/ci/repo:acme/app:ref:refs/heads/main');
    expect(name).toBe('fedbroker.acme.ci-repo-acme-app-ref-refs-heads.e589c21462e6f869');
    expect(name).toMatch(STS_NAME);
  });

  it('keep apart principals that read alike once cleaned', () => {
    const names = ['acme/ci/app', 'acme/ci:app', 'acme/ci-app', 'acme/ci app', 'acme/ci/app/'].map((sub) =>
      defaultSessionName('acme', sub),
    );
    expect(names.every((n) => n.startsWith('fedbroker.acme.ci-app.'))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it("keep apart a principal spelled like another one's name", () => {
    const victim = defaultSessionName('acme', 'acme/ci/app');
    const lookalike = defaultSessionName('acme', `acme/${victim.slice('fedbroker.acme.'.length)}`);
    expect(lookalike).not.toBe(victim);
  });

  it('keep apart a sub with and without its tenant prefix', () => {
    expect(defaultSessionName('acme', 'acme/x')).not.toBe(defaultSessionName('acme', 'x'));
  });

  it('stay within 64 characters and keep two long principals apart', () => {
    const tenant = 'a'.repeat(63);
    const one = defaultSessionName(tenant, `${tenant}/ci/${'x'.repeat(200)}1`);
    const two = defaultSessionName(tenant, `${tenant}/ci/${'x'.repeat(200)}2`);
    expect(one).toMatch(STS_NAME);
    expect(two).toMatch(STS_NAME);
    expect(one).toHaveLength(64);
    expect(one).not.toBe(two);
  });

  it('refuse user-given names STS would refuse', () => {
    expect(sessionNameArgument('deploy@acme')).toBe('deploy@acme');
    for (const bad of ['x', 'has space', 'a/b', 'y'.repeat(65)]) expect(() => sessionNameArgument(bad)).toThrow(InvalidArgumentError);
  });
});

describe('credential output', () => {
  it('prints exactly the credential_process JSON, ISO 8601 expiration without milliseconds', () => {
    expect(credentialProcessJson(creds)).toBe(
      '{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"se/cr+et=",' +
        '"SessionToken":"to/ken+==","Expiration":"2030-01-02T03:04:05Z"}\n',
    );
  });

  it('prints export lines a shell can source', () => {
    expect(credentialExports(creds)).toBe(
      'export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=se/cr+et=\nexport ' +
        'AWS_SESSION_TOKEN=to/ken+==\nexport AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z\n',
    );
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });
});

/** What the AWS SDK reads from a shared credentials file with this text (its own parser, no cache). */
async function sdkReads(text: string, profile: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fedbroker-ini-'));
  writeFileSync(join(dir, 'credentials'), text);
  return fromIni({ profile, filepath: join(dir, 'credentials'), configFilepath: join(dir, 'none'), ignoreCache: true })();
}

describe('writing a profile into the shared credentials file', () => {
  const existing = [
    '# my keys',
    '[default]',
    'aws_access_key_id = AKIADEFAULT',
    'aws_secret_access_key = s',
    '',
    '[ci]',
    'region = eu-west-1',
    'aws_access_key_id = OLD',
    'aws_secret_access_key = OLD',
    'aws_session_token = OLD',
    '[other]',
    'aws_access_key_id = AKIAOTHER',
    'aws_secret_access_key = o',
    '',
  ].join('\n');

  it('replaces only the profile’s credentials, keeping its other settings and every other profile', async () => {
    const text = withProfile(existing, 'ci', creds);
    expect(await sdkReads(text, 'ci')).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'se/cr+et=',
      sessionToken: 'to/ken+==',
    });
    expect(await sdkReads(text, 'default')).toMatchObject({ accessKeyId: 'AKIADEFAULT', secretAccessKey: 's' });
    expect(await sdkReads(text, 'other')).toMatchObject({ accessKeyId: 'AKIAOTHER', secretAccessKey: 'o' });
    expect(text.startsWith('# my keys\n[default]\n')).toBe(true);
    expect(text).toContain('[ci]\n# fedbroker: expires 2030-01-02T03:04:05Z\n');
    expect(text).toContain('region = eu-west-1');
    expect(text).not.toContain('OLD');
  });

  it('is stable when written again: one set of credentials, one expiry note', async () => {
    const twice = withProfile(withProfile(existing, 'ci', creds), 'ci', { ...creds, accessKeyId: 'ASIASECOND' });
    expect(twice.match(/aws_access_key_id = ASIA\w+/g)).toEqual(['aws_access_key_id = ASIASECOND']);
    expect(twice.match(/# fedbroker:/g)).toHaveLength(1);
    expect((await sdkReads(twice, 'ci')).accessKeyId).toBe('ASIASECOND');
  });

  it('appends a new profile, and creates the file content from nothing', async () => {
    expect((await sdkReads(withProfile(existing, 'new', creds), 'new')).accessKeyId).toBe('ASIAEXAMPLE');
    expect(withProfile(undefined, 'ci', creds)).toMatch(/^\[ci\]\n# fedbroker: expires .+\naws_access_key_id = ASIAEXAMPLE\n/);
  });

  it('drops credentials of a repeated section, which would otherwise override the new ones', async () => {
    const text = withProfile(`${existing}[ci]\naws_access_key_id = LATER\n`, 'ci', creds);
    expect((await sdkReads(text, 'ci')).accessKeyId).toBe('ASIAEXAMPLE');
  });

  it('refuses profile names the SDKs would not read back', () => {
    for (const bad of ['', 'with space', 'a]b', '__proto__']) expect(() => profileArgument(bad)).toThrow(InvalidArgumentError);
  });
});

describe('AWS error codes', () => {
  it.each([
    ['InvalidIdentityTokenException', 'invalid_identity_token'],
    ['ExpiredTokenException', 'expired_token'],
    ['AccessDenied', 'access_denied'],
    ['IDPRejectedClaimException', 'idp_rejected_claim'],
    ['IDPCommunicationErrorException', 'idp_communication_error'],
    ['NotAuthorizedException', 'not_authorized'],
  ])('%s → %s', (name, code) => expect(awsErrorCode(name)).toBe(code));
});
