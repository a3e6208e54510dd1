import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real CA made with Debian's `openssl` CLI (`openssl genpkey`, `req`, `ca`): roots, intermediates,
 * leaves (RSA and EC) and CRLs, for the X.509 tests. `openssl ca` is used because OpenSSL 3.0's
 * `x509` cannot set arbitrary validity dates, and it keeps the index a CRL is made from.
 */

export type KeyKind = 'rsa2048' | 'rsa1024' | 'p256' | 'p384';

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  readonly der: Uint8Array;
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly serialHex: string;
}

export interface IssueOptions {
  subject: string;
  key?: KeyKind;
  /** Omitted: self-signed root. */
  issuer?: Issued;
  ca?: boolean;
  pathLen?: number;
  /** Extension values replacing the defaults; `keyUsage: ''` leaves the extension out. */
  keyUsage?: string;
  basicConstraints?: string;
  san?: string;
  extra?: string[];
  md?: 'sha256' | 'sha384' | 'sha1';
  /** `YYMMDDHHMMSSZ`; default now − 1 h … now + 30 d. */
  start?: Date;
  end?: Date;
  serialHex?: string;
}

const run = (args: string[], cwd?: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

let counter = 0x1000;
const keyCache = new Map<KeyKind, string[]>();

/** A fresh-enough key: each kind is generated a few times and reused round-robin (keygen costs CPU). */
function key(kind: KeyKind, fresh = false): string {
  const pool = keyCache.get(kind) ?? [];
  keyCache.set(kind, pool);
  if (fresh || pool.length < 6) {
    const args =
      kind === 'rsa2048' || kind === 'rsa1024'
        ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${kind === 'rsa2048' ? 2048 : 1024}`]
        : ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${kind === 'p256' ? 'P-256' : 'P-384'}`];
    const pem = run(args).toString();
    pool.push(pem);
    return pem;
  }
  return pool[counter % pool.length] as string;
}

export class OpensslCa {
  readonly root = mkdtempSync(join(tmpdir(), 'fedbroker-x509-'));

  issue(o: IssueOptions): Issued {
    const dir = join(this.root, `c${++counter}`);
    mkdirSync(join(dir, 'new'), { recursive: true });
    const serialHex = o.serialHex ?? (counter * 7919).toString(16).padStart(8, '0');
    const keyPath = join(dir, 'key.pem');
    writeFileSync(keyPath, key(o.key ?? 'p256', !o.issuer), { mode: 0o600 });
    const ca = o.ca ?? false;
    const pathLen = o.pathLen === undefined ? '' : `, pathlen:${o.pathLen}`;
    const ext = [
      '[v3]',
      `basicConstraints = ${o.basicConstraints ?? (ca ? `critical, CA:TRUE${pathLen}` : 'critical, CA:FALSE')}`,
      ...(o.keyUsage === '' ? [] : [`keyUsage = ${o.keyUsage ?? (ca ? 'critical, keyCertSign, cRLSign' : 'critical, digitalSignature')}`]),
      'subjectKeyIdentifier = hash',
      ...(o.issuer ? ['authorityKeyIdentifier = keyid'] : []),
      ...(o.san ? [`subjectAltName = ${o.san}`] : []),
      ...(o.extra ?? []),
    ].join('\n');
    writeFileSync(join(dir, 'ext.cnf'), `${ext}\n`);
    run(['req', '-new', '-key', keyPath, '-subj', o.subject, '-out', join(dir, 'req.csr')]);
    const signer = o.issuer ?? { dir, certPath: '', keyPath };
    const cnf = this.#caConfig(signer.dir);
    writeFileSync(join(signer.dir, 'serial'), `${serialHex}\n`);
    const start = o.start ?? new Date(Date.now() - 3600_000);
    const end = o.end ?? new Date(Date.now() + 30 * 86400_000);
    run([
      'ca',
      '-batch',
      '-config',
      cnf,
      '-notext',
      '-preserveDN',
      '-md',
      o.md ?? 'sha256',
      '-startdate',
      asn1Time(start),
      '-enddate',
      asn1Time(end),
      '-extfile',
      join(dir, 'ext.cnf'),
      '-extensions',
      'v3',
      '-keyfile',
      signer.keyPath,
      ...(o.issuer ? ['-cert', o.issuer.certPath] : ['-selfsign']),
      '-in',
      join(dir, 'req.csr'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const der = new Uint8Array(run(['x509', '-in', join(dir, 'cert.pem'), '-outform', 'DER']));
    return { certPem, keyPem: readFileSync(keyPath, 'utf8'), der, dir, certPath: join(dir, 'cert.pem'), keyPath, serialHex };
  }

  /** Revokes `cert` in `issuer`'s index (no CRL is made until `crl`). */
  revoke(issuer: Issued, cert: Issued): void {
    run(['ca', '-config', this.#caConfig(issuer.dir), '-keyfile', issuer.keyPath, '-cert', issuer.certPath, '-revoke', cert.certPath]);
  }

  /** A CRL of `issuer`'s index, signed with `signingKey` (default the issuer's key); PEM. */
  crl(issuer: Issued, opts: { signingKeyPath?: string; md?: string; lastUpdate?: Date; crlExtensions?: string[] } = {}): string {
    const out = join(issuer.dir, `crl-${++counter}.pem`);
    const cnf = this.#caConfig(issuer.dir);
    const args = ['ca', '-gencrl', '-config', cnf, '-keyfile', opts.signingKeyPath ?? issuer.keyPath];
    args.push('-cert', issuer.certPath, '-md', opts.md ?? 'sha256', '-out', out);
    if (opts.lastUpdate) args.push('-crl_lastupdate', asn1Time(opts.lastUpdate));
    if (opts.crlExtensions) {
      // CRL extensions (e.g. `2.5.29.27 = critical, DER:020101`, a delta CRL indicator) in a section of their own.
      const section = `crlext${counter}`;
      writeFileSync(cnf, `${readFileSync(cnf, 'utf8')}[${section}]\n${opts.crlExtensions.join('\n')}\n`);
      args.push('-crlexts', section);
    }
    run(args);
    return readFileSync(out, 'utf8');
  }

  #caConfig(dir: string): string {
    const cnf = join(dir, 'ca.cnf');
    try {
      readFileSync(cnf);
      return cnf;
    } catch {
      writeFileSync(join(dir, 'index.txt'), '');
      writeFileSync(join(dir, 'crlnumber'), '01\n');
      writeFileSync(
        cnf,
        [
          '[ca]',
          'default_ca = d',
          '[d]',
          `dir = ${dir}`,
          `database = ${join(dir, 'index.txt')}`,
          `new_certs_dir = ${join(dir, 'new')}`,
          `serial = ${join(dir, 'serial')}`,
          `crlnumber = ${join(dir, 'crlnumber')}`,
          'default_md = sha256',
          'default_days = 30',
          'default_crl_days = 7',
          'policy = any',
          'unique_subject = no',
          'email_in_dn = no',
          '[any]',
          'countryName = optional',
          'organizationName = optional',
          'organizationalUnitName = optional',
          'commonName = optional',
          '',
        ].join('\n'),
      );
      return cnf;
    }
  }
}
