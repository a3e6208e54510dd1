import { InvalidArgumentError, type Command } from 'commander';
import { RELATIONSHIP_ID, trustRelationshipInputSchema, type TrustRelationship } from '../../lib/trust/schema.ts';
import { readTokenSource } from '../context.ts';
import { usageError } from '../errors.ts';
import type { BrokerRequest, BrokerResponse } from '../http.ts';
import { notice, outputOption, printJson, printLine, renderTable, type OutputFormat } from '../output.ts';
import {
  forcedNote,
  forceOption,
  ifMatchOption,
  JSON_TYPE,
  precondition,
  readDocument as readValidDocument,
  tenantApi,
  tenantOption,
  TRUST_RELATIONSHIPS,
} from '../tenant-documents.ts';

interface Common {
  tenant?: string;
  output: OutputFormat;
}

function relationshipId(text: string): string {
  if (!RELATIONSHIP_ID.test(text)) throw new InvalidArgumentError('a trust relationship id is 1-63 lower-case letters, digits and dashes');
  return text;
}

/** Calls the admin API of the stored token's tenant, with that token as the bearer. */
function admin(cmd: Command, opts: Common, suffix: string, request: BrokerRequest): Promise<BrokerResponse> {
  return tenantApi(cmd, opts, TRUST_RELATIONSHIPS, { ...request, suffix });
}

/** Reads a relationship document and validates it with the same schema the server uses. */
const readDocument = (file: string) => readValidDocument(file, trustRelationshipInputSchema, 'trust relationship');

const relationship = (res: BrokerResponse) => res.body as TrustRelationship;

/** Who issues the tokens a relationship admits: an OIDC issuer, or the Cognito identity pool. */
function issuerOf(r: TrustRelationship): string {
  if ('issuer' in r) return r.issuer;
  if ('identity_pool_id' in r) return `cognito:${r.identity_pool_id}`;
  return '-';
}

function printRelationshipTable(r: TrustRelationship): void {
  const rows = Object.entries(r).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
  printLine(renderTable(['field', 'value'], rows));
}

interface Explanation {
  verified: boolean;
  reason?: string;
  relationships: {
    id: string;
    matched: boolean;
    checks: { check: string; matched: boolean; operator?: string; key?: string; seen?: unknown; expected?: unknown }[];
  }[];
}

/** The explain answer for people: one line per relationship, one per check under it. */
function renderExplanation(e: Explanation): string {
  const lines = [`token verified: ${e.verified ? 'yes' : `no (${e.reason ?? 'unknown reason'})`}`];
  if (!e.relationships.length) lines.push('no trust relationships');
  for (const r of e.relationships) {
    lines.push(`${r.id}: ${r.matched ? 'matched' : 'not matched'}`);
    for (const c of r.checks) {
      const name = c.check === 'condition' ? `condition ${c.operator ?? ''} ${c.key ?? ''}`.trimEnd() : c.check;
      const detail = [
        c.expected !== undefined ? `expected ${JSON.stringify(c.expected)}` : '',
        c.seen !== undefined ? `seen ${JSON.stringify(c.seen)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`  ${c.matched ? 'ok  ' : 'FAIL'}  ${name}${detail && !c.matched ? `: ${detail}` : ''}`);
    }
  }
  return lines.join('\n');
}

/** `fedbroker auth trust-relationships …`: the tenant's admin API, with the stored token. */
export function registerTrustRelationships(auth: Command): void {
  const tr = auth
    .command('trust-relationships')
    .description("manage the stored token's tenant's trust relationships (needs the trust:admin scope)");

  tr.command('list')
    .description('list the trust relationships')
    .option(...tenantOption)
    .addOption(outputOption(['table', 'json', 'plain'], 'table'))
    .action(async (opts: Common, cmd: Command) => {
      const res = await admin(cmd, opts, '', { method: 'GET' });
      const items = ((res.body as { items?: TrustRelationship[] } | undefined)?.items ?? []) as TrustRelationship[];
      if (opts.output === 'json') return printJson({ items });
      if (opts.output === 'plain') return items.forEach((r) => printLine(r.id));
      const rows = items.map((r) => [r.id, r.kind, issuerOf(r), String(r.enabled), r.scopes.join(','), String(r.version)]);
      printLine(renderTable(['id', 'kind', 'issuer', 'enabled', 'scopes', 'version'], rows));
    });

  tr.command('get')
    .description('show one trust relationship')
    .argument('<id>', 'trust relationship id', relationshipId)
    .option(...tenantOption)
    .addOption(outputOption(['json', 'table'], 'json'))
    .action(async (id: string, opts: Common, cmd: Command) => {
      const r = relationship(await admin(cmd, opts, `/${encodeURIComponent(id)}`, { method: 'GET' }));
      if (opts.output === 'table') printRelationshipTable(r);
      else printJson(r);
    });

  tr.command('add')
    .description('create a trust relationship from a JSON document (validated locally first)')
    .requiredOption('--file <file>', 'the relationship document (JSON)')
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: Common & { file: string }, cmd: Command) => {
      const doc = await readDocument(opts.file);
      const r = relationship(await admin(cmd, opts, '', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) }));
      notice(`created trust relationship ${r.id} (version ${r.version})`);
      if (opts.output === 'json') printJson(r);
    });

  tr.command('update')
    .description('replace a trust relationship with a JSON document (validated locally first)')
    .argument('<id>', 'trust relationship id', relationshipId)
    .requiredOption('--file <file>', 'the full relationship document (JSON)')
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (id: string, opts: Common & { file: string; ifMatch?: number; force?: boolean }, cmd: Command) => {
      const doc = await readDocument(opts.file);
      if (doc.id !== undefined && doc.id !== id) throw usageError(`${opts.file} has id ${JSON.stringify(doc.id)}, not ${id}`);
      const expected = await precondition(cmd, opts, TRUST_RELATIONSHIPS, id);
      const headers = { ...JSON_TYPE, 'If-Match': expected.ifMatch };
      const r = relationship(await admin(cmd, opts, `/${encodeURIComponent(id)}`, { method: 'PUT', headers, body: JSON.stringify(doc) }));
      notice(`updated trust relationship ${r.id} (version ${r.version}${forcedNote(expected)})`);
      if (opts.output === 'json') printJson(r);
    });

  tr.command('remove')
    .description('delete a trust relationship')
    .argument('<id>', 'trust relationship id', relationshipId)
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .action(async (id: string, opts: Common & { ifMatch?: number; force?: boolean }, cmd: Command) => {
      const expected = await precondition(cmd, opts, TRUST_RELATIONSHIPS, id);
      await admin(cmd, opts, `/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { 'If-Match': expected.ifMatch } });
      notice(`removed trust relationship ${id} (was version ${expected.version}${expected.forced ? ', removed with --force' : ''})`);
    });

  tr.command('explain')
    .description('show which trust relationships would admit a token, and why not')
    .option('--token <jwt>', 'the token to explain')
    .option('--token-file <file>', 'file holding the token to explain')
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: Common & { token?: string; tokenFile?: string }, cmd: Command) => {
      const token = await readTokenSource(opts);
      const res = await admin(cmd, opts, ':explain', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ token }) });
      if (opts.output === 'json') printJson(res.body);
      else printLine(renderExplanation(res.body as Explanation));
    });
}
