import { InvalidArgumentError, type Command } from 'commander';
import { RELATIONSHIP_ID } from '../../lib/trust/schema.ts';
import { trustAnchorInputSchema, type TrustAnchor } from '../../lib/x509/anchor.ts';
import { endpointOf, tenantArgument } from '../context.ts';
import { durationOption, formatDuration } from '../duration.ts';
import { decodeUnverified, notice, outputOption, printJson, printLine, renderTable, type OutputFormat } from '../output.ts';
import { parseScopes } from '../sign-in.ts';
import {
  type DocumentCollection,
  forcedNote,
  forceOption,
  ifMatchOption,
  JSON_TYPE,
  precondition,
  readDocument,
  tenantApi,
  tenantOption,
  type TenantOptions,
} from '../tenant-documents.ts';
import { secondsLeft, writeStoredToken, type StoredToken } from '../token-file.ts';
import { certificateSession } from '../x509.ts';

/**
 * Certificates in, CLI side (docs/x509.md): `auth exchange-x509` signs a session request with a
 * certificate and its private key and stores the access token like `auth exchange-oidc-token`;
 * `auth trust-anchors …` manages the tenant's anchors through the admin API. Kept in one new file
 * so the tenant-document command factory can fold `trust-anchors` in later.
 */

export const TRUST_ANCHORS: DocumentCollection = { path: 'trust-anchors', label: 'trust anchor' };

interface Common extends TenantOptions {
  output: OutputFormat;
}

function anchorId(text: string): string {
  if (!RELATIONSHIP_ID.test(text)) throw new InvalidArgumentError('a trust anchor id is 1-63 lower-case letters, digits and dashes');
  return text;
}

const anchor = (body: unknown) => body as TrustAnchor;
const read = (file: string) => readDocument(file, trustAnchorInputSchema, 'trust anchor');

export const certificateOptions = (c: Command): Command =>
  c
    .option('--certificate <file>', 'PEM file of the certificate (further certificates in it are taken as intermediates)')
    .option('--private-key <file>', "PEM file of the certificate's private key (PKCS#8, SEC1 or PKCS#1), or - for standard input")
    .option('--intermediates <file>', "PEM file of the intermediate CA certificates, the leaf's issuer first");

export function registerX509(auth: Command): void {
  certificateOptions(
    auth
      .command('exchange-x509')
      .description(
        'sign a session request with a certificate (IAM Roles Anywhere signing) for a fedbroker access token, stored for later commands',
      ),
  )
    .requiredOption('--tenant <tenant>', 'tenant whose trust anchors and x509 relationships admit the certificate', tenantArgument)
    .option('--scope <scopes>', 'scopes to ask for, space or comma separated')
    .option('--duration <duration>', 'lifetime to ask for, e.g. 15m or 1h', durationOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(
      async (
        opts: {
          tenant: string;
          certificate?: string;
          privateKey?: string;
          intermediates?: string;
          scope?: string;
          duration?: number;
          output: OutputFormat;
        },
        cmd: Command,
      ) => {
        if (!opts.certificate || !opts.privateKey) throw new InvalidArgumentError('--certificate and --private-key are required');
        const { endpoint } = endpointOf(cmd);
        const response = await certificateSession(
          endpoint,
          opts.tenant,
          { certificate: opts.certificate, privateKey: opts.privateKey, intermediates: opts.intermediates },
          { durationSeconds: opts.duration, scope: parseScopes(opts.scope)?.join(' ') },
        );
        const stored = storedFrom(endpoint, opts.tenant, response);
        await writeStoredToken(stored);
        notice(`signed in as ${stored.sub} (scopes: ${stored.scope || 'none'}), valid for ${formatDuration(secondsLeft(stored))}`);
        if (opts.output === 'json') printJson({ ...stored, access_token: undefined });
      },
    );

  const anchors = auth
    .command('trust-anchors')
    .description("manage the stored token's tenant's X.509 trust anchors: CA bundles and CRLs (needs the trust:admin scope)");

  anchors
    .command('list')
    .description('list the trust anchors')
    .option(...tenantOption)
    .addOption(outputOption(['table', 'json', 'plain'], 'table'))
    .action(async (opts: Common, cmd: Command) => {
      const res = await tenantApi(cmd, opts, TRUST_ANCHORS, { method: 'GET' });
      const items = (res.body as { items?: TrustAnchor[] } | undefined)?.items ?? [];
      if (opts.output === 'json') return printJson({ items });
      if (opts.output === 'plain') {
        for (const a of items) printLine(a.id);
        return;
      }
      const rows = items.map((a) => [a.id, String(a.enabled), String(a.crls?.length ?? 0), String(a.version)]);
      printLine(renderTable(['id', 'enabled', 'crls', 'version'], rows));
    });

  anchors
    .command('get')
    .description('show one trust anchor')
    .argument('<id>', 'trust anchor id', anchorId)
    .option(...tenantOption)
    .addOption(outputOption(['json'], 'json'))
    .action(async (id: string, opts: Common, cmd: Command) =>
      printJson(anchor((await tenantApi(cmd, opts, TRUST_ANCHORS, { method: 'GET', id })).body)),
    );

  anchors
    .command('add')
    .description('add a trust anchor from a JSON document {id, certificates, crls, enabled} (validated locally, checked by the broker)')
    .requiredOption('--file <file>', 'the anchor document (JSON)')
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: Common & { file: string }, cmd: Command) => {
      const doc = await read(opts.file);
      const a = anchor((await tenantApi(cmd, opts, TRUST_ANCHORS, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) })).body);
      notice(`added trust anchor ${a.id} (version ${a.version})`);
      if (opts.output === 'json') printJson(a);
    });

  anchors
    .command('update')
    .description('replace a trust anchor with a JSON document: a new bundle, new CRLs, or enabled: false (the kill switch)')
    .argument('<id>', 'trust anchor id', anchorId)
    .requiredOption('--file <file>', 'the full anchor document (JSON)')
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (id: string, opts: Common & { file: string; ifMatch?: number; force?: boolean }, cmd: Command) => {
      const doc = await read(opts.file);
      const expected = await precondition(cmd, opts, TRUST_ANCHORS, id);
      const headers = { ...JSON_TYPE, 'If-Match': expected.ifMatch };
      const a = anchor((await tenantApi(cmd, opts, TRUST_ANCHORS, { method: 'PUT', id, headers, body: JSON.stringify(doc) })).body);
      notice(`updated trust anchor ${a.id} (version ${a.version}${forcedNote(expected)})`);
      if (opts.output === 'json') printJson(a);
    });

  anchors
    .command('remove')
    .description('remove a trust anchor: certificates chaining to it get no new sessions')
    .argument('<id>', 'trust anchor id', anchorId)
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .action(async (id: string, opts: TenantOptions & { ifMatch?: number; force?: boolean }, cmd: Command) => {
      const expected = await precondition(cmd, opts, TRUST_ANCHORS, id);
      await tenantApi(cmd, opts, TRUST_ANCHORS, { method: 'DELETE', id, headers: { 'If-Match': expected.ifMatch } });
      notice(`removed trust anchor ${id} (was version ${expected.version}${expected.forced ? ', removed with --force' : ''})`);
    });
}

/** The stored-token record for a certificate session's answer (what `exchange-oidc-token` stores). */
export function storedFrom(
  endpoint: string,
  tenant: string,
  response: { access_token: string; expires_in: number; scope?: string },
): StoredToken {
  const claims = decodeUnverified(response.access_token).payload;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + response.expires_in * 1000;
  return {
    endpoint,
    tenant,
    access_token: response.access_token,
    expires_at: new Date(exp).toISOString(),
    scope: response.scope ?? '',
    sub: typeof claims.sub === 'string' ? claims.sub : '',
  };
}
