import { describe, expect, it } from 'vitest';
import { PolicyInvalid } from '../../../lib/errors.ts';
import { checkIssuerUrl, sameOriginOrDeclared } from '../../../lib/net/issuer-url.ts';

function refusal(fn: () => unknown): PolicyInvalid {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyInvalid);
    return e as PolicyInvalid;
  }
  throw new Error('expected PolicyInvalid');
}

describe('checkIssuerUrl accepts', () => {
  it.each([
    ['GitHub Actions', 'https://token.actions.githubusercontent.com', false],
    ['GitLab.com', 'https://gitlab.com', false],
    ['Cognito user pool (path)', 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123', false],
    ['EKS cluster (path)', 'https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789', false],
    ['explicit port', 'https://issuer.example.com:8443/realm', false],
    ['public IPv4 literal', 'https://93.184.216.34', false],
    ['public IPv6 literal', 'https://[2606:2800:220:1:248:1893:25c8:1946]', false],
    ['local mode: http://localhost', 'http://localhost:8080', true],
    ['local mode: http://127.0.0.1', 'http://127.0.0.1:4000', true],
    ['local mode: http://[::1]', 'http://[::1]:4000', true],
    ['local mode: https on other loopback', 'https://127.0.0.2', true],
  ])('%s', (_name, raw, local) => {
    expect(checkIssuerUrl(raw, { local })).toBeInstanceOf(URL);
  });

  it('returns the WHATWG-normalised URL', () => {
    expect(checkIssuerUrl('HTTPS://Token.Actions.GitHubUserContent.com', { local: false }).href).toBe(
      'https://token.actions.githubusercontent.com/',
    );
  });
});

describe('checkIssuerUrl refuses', () => {
  it.each([
    // scheme and shape
    ['empty string', '', /required/],
    ['not a URL', 'token.actions.githubusercontent.com', /absolute URL/],
    ['plain http', 'http://issuer.example.com', /must use https/],
    ['ftp scheme', 'ftp://issuer.example.com', /must use https/],
    ['file scheme', 'file:///etc/passwd', /must use https/],
    ['javascript scheme', 'javascript:alert(1)', /must use https/],
    ['userinfo', 'https://user:pass@issuer.example.com', /credentials/],
    ['username only', 'https://user@issuer.example.com', /credentials/],
    ['empty userinfo', 'https://@issuer.example.com', /credentials/],
    ['query', 'https://issuer.example.com/?a=b', /query/],
    ['empty query', 'https://issuer.example.com/?', /query/],
    ['fragment', 'https://issuer.example.com/#x', /fragment/],
    ['empty fragment', 'https://issuer.example.com/#', /fragment/],
    ['overlong URL', `https://issuer.example.com/${'a'.repeat(2100)}`, /longer than/],
    // IPv4 ranges
    ['loopback 127.0.0.1', 'https://127.0.0.1', /IPv4 address in the/],
    ['loopback 127.1.2.3', 'https://127.1.2.3', /IPv4 address in the/],
    ['private 10/8', 'https://10.0.0.1', /IPv4 address in the/],
    ['private 172.16/12 (low)', 'https://172.16.0.1', /IPv4 address in the/],
    ['private 172.16/12 (high)', 'https://172.31.255.254', /IPv4 address in the/],
    ['private 192.168/16', 'https://192.168.1.1', /IPv4 address in the/],
    ['link-local 169.254/16', 'https://169.254.10.10', /IPv4 address in the/],
    ['cloud metadata 169.254.169.254', 'https://169.254.169.254/latest/meta-data', /IPv4 address in the/],
    ['carrier-grade NAT 100.64/10', 'https://100.64.0.1', /IPv4 address in the/],
    ['this-network 0.0.0.0', 'https://0.0.0.0', /IPv4 address in the/],
    ['this-network 0.1.2.3', 'https://0.1.2.3', /IPv4 address in the/],
    ['broadcast 255.255.255.255', 'https://255.255.255.255', /IPv4 address in the/],
    ['multicast 224.0.0.1', 'https://224.0.0.1', /IPv4 address in the/],
    // IPv4 spellings the WHATWG parser normalises
    ['decimal IPv4 2130706433 (127.0.0.1)', 'http://2130706433', /IPv4 address in the/],
    ['decimal IPv4 over https', 'https://2130706433', /IPv4 address in the/],
    ['decimal metadata 2852039166 (169.254.169.254)', 'https://2852039166', /IPv4 address in the/],
    ['hex IPv4 0x7f000001', 'https://0x7f000001', /IPv4 address in the/],
    ['octal IPv4 0177.0.0.1', 'https://0177.0.0.1', /IPv4 address in the/],
    ['short IPv4 127.1', 'https://127.1', /IPv4 address in the/],
    ['mixed hex/octal 0xa.012.0.1 (10.10.0.1)', 'https://0xa.012.0.1', /IPv4 address in the/],
    ['trailing-dot IPv4 10.0.0.1.', 'https://10.0.0.1.', /IPv4 address in the/],
    // IPv6 ranges
    ['IPv6 loopback ::1', 'https://[::1]', /IPv6 address in the/],
    ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]', /IPv6 address in the/],
    ['IPv6 unspecified ::', 'https://[::]', /IPv6 address in the/],
    ['IPv4-mapped ::ffff:127.0.0.1', 'https://[::ffff:127.0.0.1]', /IPv6 address in the/],
    ['IPv4-mapped ::ffff:169.254.169.254', 'https://[::ffff:169.254.169.254]', /IPv6 address in the/],
    ['IPv4-mapped hex ::ffff:7f00:1', 'https://[::ffff:7f00:1]', /IPv6 address in the/],
    ['IPv4-mapped hex ::ffff:a9fe:a9fe', 'https://[::ffff:a9fe:a9fe]', /IPv6 address in the/],
    ['IPv4-compatible ::127.0.0.1', 'https://[::127.0.0.1]', /IPv6 address in the/],
    ['NAT64 64:ff9b::a9fe:a9fe', 'https://[64:ff9b::a9fe:a9fe]', /IPv6 address in the/],
    ['6to4 2002:a9fe:a9fe::', 'https://[2002:a9fe:a9fe::]', /IPv6 address in the/],
    ['unique-local fc00::/7 (fc00::1)', 'https://[fc00::1]', /IPv6 address in the/],
    ['unique-local fd12:3456::1', 'https://[fd12:3456::1]', /IPv6 address in the/],
    ['AWS IPv6 metadata fd00:ec2::254', 'https://[fd00:ec2::254]', /IPv6 address in the/],
    ['link-local fe80::1', 'https://[fe80::1]', /IPv6 address in the/],
    ['link-local febf::1', 'https://[febf::1]', /IPv6 address in the/],
    ['multicast ff02::1', 'https://[ff02::1]', /IPv6 address in the/],
    // names
    ['localhost outside local mode', 'https://localhost', /internal-only name/],
    ['http://localhost outside local mode', 'http://localhost:8080', /must use https/],
    ['subdomain of localhost', 'https://evil.localhost', /internal-only name/],
    ['GCP metadata name', 'https://metadata.google.internal', /internal-only name/],
    ['GCP metadata name with trailing dot', 'https://metadata.google.internal.', /internal-only name/],
    ['any *.internal', 'https://ip-10-0-0-1.ec2.internal', /internal-only name/],
    ['mDNS *.local', 'https://printer.local', /internal-only name/],
    ['*.home.arpa', 'https://router.home.arpa', /internal-only name/],
    ['single-label name', 'https://metadata', /fully-qualified/],
    ['single-label name instance-data', 'https://instance-data', /fully-qualified/],
  ])('%s', (_name, raw, issue) => {
    expect(refusal(() => checkIssuerUrl(raw, { local: false })).issues.join('; ')).toMatch(issue);
  });

  it.each([
    ['http on a public host', 'http://issuer.example.com'],
    ['http on a non-listed loopback address', 'http://127.0.0.2'],
    ['http://localhost.', 'http://localhost.:8080'],
    ['metadata address', 'http://169.254.169.254'],
    ['private address', 'https://10.1.2.3'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]'],
    ['*.localhost', 'https://a.localhost'],
  ])('local mode: %s', (_name, raw) => {
    refusal(() => checkIssuerUrl(raw, { local: true }));
  });

  it('lists every problem at once', () => {
    const e = refusal(() => checkIssuerUrl('http://u:p@10.0.0.1/?q#f', { local: false }));
    expect(e.issues).toHaveLength(5);
  });

  it('never echoes credentials in the message', () => {
    const e = refusal(() => checkIssuerUrl('https://admin:hunter2@issuer.example.com', { local: false }));
    expect(e.message).not.toMatch(/hunter2|admin/);
  });
});

describe('sameOriginOrDeclared', () => {
  const issuer = new URL('https://issuer.example.com/realm');

  it('accepts a jwks_uri on the issuer host', () => {
    expect(sameOriginOrDeclared(issuer, 'https://issuer.example.com/realm/keys', { local: false }).href).toBe(
      'https://issuer.example.com/realm/keys',
    );
  });

  it('refuses a jwks_uri on another host', () => {
    refusal(() => sameOriginOrDeclared(issuer, 'https://keys.example.net/jwks', { local: false }));
  });

  it('refuses a jwks_uri on another port of the same host', () => {
    refusal(() => sameOriginOrDeclared(issuer, 'https://issuer.example.com:8443/jwks', { local: false }));
  });

  it('accepts a declared JWKS host', () => {
    const url = sameOriginOrDeclared(issuer, 'https://keys.example.net/jwks', { local: false, allowedJwksHosts: ['Keys.Example.net'] });
    expect(url.host).toBe('keys.example.net');
  });

  it('refuses a declared host over http', () => {
    refusal(() => sameOriginOrDeclared(issuer, 'http://keys.example.net/jwks', { local: false, allowedJwksHosts: ['keys.example.net'] }));
  });

  it('refuses a jwks_uri pointing at cloud metadata even when declared', () => {
    refusal(() => sameOriginOrDeclared(issuer, 'https://169.254.169.254/jwks', { local: false, allowedJwksHosts: ['169.254.169.254'] }));
  });

  it('refuses a jwks_uri with credentials or a query', () => {
    refusal(() => sameOriginOrDeclared(issuer, 'https://u:p@issuer.example.com/jwks', { local: false }));
    refusal(() => sameOriginOrDeclared(issuer, 'https://issuer.example.com/jwks?x=1', { local: false }));
  });

  it('local mode: accepts a loopback issuer and its jwks_uri', () => {
    const local = checkIssuerUrl('http://127.0.0.1:4000', { local: true });
    expect(sameOriginOrDeclared(local, 'http://127.0.0.1:4000/jwks', { local: true }).pathname).toBe('/jwks');
  });
});
