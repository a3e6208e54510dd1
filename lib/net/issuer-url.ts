import { PolicyInvalid } from '../errors.ts';

/**
 * SSRF guard for every URL fedbroker will GET on behalf of a trust relationship: the issuer
 * (checked when the relationship is stored and again before each fetch) and the `jwks_uri` an
 * issuer's discovery document names.
 *
 * The check is lexical, on the WHATWG-normalised URL: `new URL('http://2130706433')`,
 * `http://0x7f.1` and `http://0177.0.0.1` all normalise to `127.0.0.1`, and IPv6 literals to
 * their compressed hex form, so checking the normalised host catches every spelling. It does not
 * resolve DNS; a name that resolves to a blocked address is refused when the connection is made:
 * the production fetch (`createFetch` in lib/net/fetch.ts) runs every resolved address through
 * {@link blockedAddressRange}, the same range tables, and the socket connects only to an address
 * that passed. Redirects are never followed (see `fetchLimited`), so a checked URL cannot be
 * bounced elsewhere.
 */

const MAX_URL_LENGTH = 2048;
const LOCAL_HTTP_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** IPv4 ranges that must never be fetched: [base address, prefix length, name]. */
const BLOCKED_V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local / cloud metadata'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved / broadcast'],
];

/**
 * Special-use DNS names that only ever resolve inside a network: `localhost` (RFC 6761 §6.3),
 * `.local` (mDNS, RFC 6762), `.home.arpa` (RFC 8375), `.internal` (cloud metadata such as
 * `metadata.google.internal`) and `.localdomain`.
 */
const INTERNAL_SUFFIXES = ['localhost', 'local', 'internal', 'localdomain', 'home.arpa'];

function v4ToInt(dotted: string): number {
  return dotted.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function blockedV4(dotted: string, local: boolean): string | undefined {
  const ip = v4ToInt(dotted);
  for (const [base, bits, name] of BLOCKED_V4) {
    if (local && name === 'loopback') continue;
    const size = 2 ** (32 - bits);
    if (Math.floor(ip / size) === Math.floor(v4ToInt(base) / size)) return name;
  }
  return undefined;
}

/** Eight 16-bit groups, or undefined when `text` is not an IPv6 address. */
function parseV6(text: string): number[] | undefined {
  let s = text;
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (dotted) {
    const n = v4ToInt(dotted[2]!);
    s = `${dotted[1]}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16) : NaN)));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  if (head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function blockedV6(g: number[], local: boolean): string | undefined {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return local ? undefined : 'loopback';
  // Addresses that embed an IPv4 address can reach IPv4 hosts (including 169.254.169.254 and
  // private ranges) through mapping, NAT64 or 6to4; no public issuer is served on one.
  if (zeroUpTo(5) && g[5] === 0xffff) return 'IPv4-mapped';
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return 'IPv4-translated';
  if (zeroUpTo(6)) return 'IPv4-compatible';
  if (g[0] === 0x64 && g[1] === 0xff9b) return 'NAT64';
  if (g[0] === 0x2002) return '6to4';
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'unique-local'; // fc00::/7, incl. AWS metadata fd00:ec2::254
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'site-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/**
 * Classifies one resolved IP address (dotted IPv4, or IPv6 without brackets, as `dns.lookup`
 * returns them) with the same tables as IP-literal hosts: the RFC 6890 special-purpose ranges
 * above, plus the IPv6 forms that embed an IPv4 address. `local` allows loopback only.
 *
 * @returns the name of the blocked range, or undefined when the address may be connected to.
 *   Anything that is not an IP address is refused (fail closed).
 */
export function blockedAddressRange(address: string, local: boolean): string | undefined {
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(address)) {
    return address.split('.').every((octet) => Number(octet) <= 255) ? blockedV4(address, local) : 'not an IP address';
  }
  // A zone index (`fe80::1%eth0`, RFC 4007 §11) names an interface, not part of the address.
  const groups = parseV6(address.replace(/%.*$/, ''));
  return groups ? blockedV6(groups, local) : 'not an IP address';
}

function hostIssue(hostname: string, local: boolean, label: string): string | undefined {
  if (hostname.startsWith('[')) {
    const groups = parseV6(hostname.slice(1, -1));
    if (!groups) return `${label} host is not a valid IPv6 address`;
    const range = blockedV6(groups, local);
    return range ? `${label} host is an IPv6 address in the ${range} range` : undefined;
  }
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(hostname)) {
    const range = blockedV4(hostname, local);
    return range ? `${label} host is an IPv4 address in the ${range} range` : undefined;
  }
  // A trailing dot (fully-qualified form) must not dodge the name checks.
  const name = hostname.replace(/\.$/, '');
  if (local && name === 'localhost') return undefined;
  if (INTERNAL_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`))) {
    return `${label} host is an internal-only name`;
  }
  // Single-label names resolve through DNS search domains to internal hosts (`metadata`,
  // `instance-data`); public issuers always have a fully-qualified name.
  if (!name.includes('.')) return `${label} host must be a fully-qualified domain name`;
  return undefined;
}

function check(raw: string, local: boolean, label: string): URL {
  if (typeof raw !== 'string' || raw.length === 0) throw new PolicyInvalid([`${label} is required`]);
  if (raw.length > MAX_URL_LENGTH) throw new PolicyInvalid([`${label} is longer than ${MAX_URL_LENGTH} characters`]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PolicyInvalid([`${label} is not an absolute URL`]);
  }
  const issues: string[] = [];
  if (url.protocol === 'http:') {
    if (!local || !LOCAL_HTTP_HOSTS.has(url.hostname)) issues.push(`${label} must use https`);
  } else if (url.protocol !== 'https:') {
    issues.push(`${label} must use https`);
  }
  // Checked on the raw text too: `https://@host/` and `https://host/?` parse to an empty
  // username/search but still carry the delimiter (OIDC Discovery 1.0 §3 forbids query and
  // fragment in an issuer identifier).
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw)?.[1] ?? '';
  if (url.username || url.password || authority.includes('@')) issues.push(`${label} must not contain credentials`);
  if (url.search || raw.includes('?')) issues.push(`${label} must not contain a query`);
  if (url.hash || raw.includes('#')) issues.push(`${label} must not contain a fragment`);
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const issue = hostIssue(url.hostname, local, label);
    if (issue) issues.push(issue);
  }
  if (issues.length > 0) throw new PolicyInvalid(issues);
  return url;
}

/**
 * Validates an issuer URL before it is stored in a trust relationship and before any fetch:
 * https only (http only for loopback in `local` mode), no credentials, query or fragment, and a
 * host that is neither an internal-only name nor an IP literal in a private, loopback,
 * link-local, metadata or otherwise special range.
 *
 * @returns the WHATWG-normalised URL.
 * @throws PolicyInvalid listing every problem found.
 */
export function checkIssuerUrl(raw: string, opts: { local: boolean }): URL {
  return check(raw, opts.local, 'issuer');
}

/**
 * Validates the `jwks_uri` from an issuer's discovery document: it must pass the same checks as
 * an issuer and share the issuer's origin (scheme, host and port), so a tampered or careless
 * discovery document cannot point us at another host. Issuers whose keys live elsewhere are
 * allowed by naming that host in `allowedJwksHosts` (default none; GitHub Actions, GitLab,
 * Kubernetes and Cognito all serve keys from the issuer's own host).
 *
 * @throws PolicyInvalid when the URI is unsafe or on an undeclared host.
 */
export function sameOriginOrDeclared(issuer: URL, jwksUri: string, opts: { local: boolean; allowedJwksHosts?: string[] }): URL {
  const url = check(jwksUri, opts.local, 'jwks_uri');
  if (url.origin === issuer.origin) return url;
  const allowed = (opts.allowedJwksHosts ?? []).map((h) => h.toLowerCase());
  if (url.protocol === issuer.protocol && allowed.includes(url.host)) return url;
  throw new PolicyInvalid(["jwks_uri must be on the issuer's host or on a declared JWKS host"]);
}
