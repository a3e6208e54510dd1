import { type Command, InvalidArgumentError } from 'commander';
import { API_ROUTES } from '../../../lib/api-paths.ts';
import { RELATIONSHIP_ID } from '../../../lib/trust/relationship-id.ts';
import { type TrustRelationship, trustRelationshipInputSchema } from '../../../lib/trust/schema.ts';
import { readTokenSource } from '../../context.ts';
import { tenantGuardOption, tokenSourceOptions } from '../../options.ts';
import { type OutputFormat, outputOption, printJson, printLine } from '../../output.ts';
import { type DocumentKind, JSON_TYPE, registerDocumentCommands, tenantApi } from '../../tenant-documents.ts';

function relationshipId(text: string): string {
  if (!RELATIONSHIP_ID.test(text)) throw new InvalidArgumentError('a trust relationship id is 1-63 lower-case letters, digits and dashes');
  return text;
}

/** Who issues the tokens a relationship admits: an OIDC issuer, or the Cognito identity pool. */
function issuerOf(r: TrustRelationship): string {
  if ('issuer' in r) return r.issuer;
  if ('identity_pool_id' in r) return `cognito:${r.identity_pool_id}`;
  return '-';
}

type Relationship = TrustRelationship & Record<string, unknown>;

export const TRUST_RELATIONSHIPS: DocumentKind<Relationship> = {
  command: 'trust-relationships',
  description: "manage the stored token's tenant's trust relationships (needs the trust:admin scope)",
  label: 'trust relationship',
  routes: { list: API_ROUTES.trustRelationships, item: API_ROUTES.trustRelationship },
  schema: trustRelationshipInputSchema(),
  id: { argument: '<id>', description: 'trust relationship id', parse: relationshipId, of: (r) => r.id },
  help: {
    list: 'list the trust relationships',
    get: 'show one trust relationship',
    add: 'create a trust relationship from a JSON document (validated locally first)',
    update: 'replace a trust relationship with a JSON document (validated locally first)',
    remove: 'delete a trust relationship',
    addFile: 'the relationship document (JSON)',
    updateFile: 'the full relationship document (JSON)',
  },
  added: 'created',
  getFormats: ['json', 'table'],
  table: {
    columns: ['id', 'kind', 'issuer', 'enabled', 'scopes', 'version'],
    row: (r) => [r.id, r.kind, issuerOf(r), String(r.enabled), r.scopes.join(','), String(r.version)],
  },
  mismatch: (doc, id, file) => (doc.id !== undefined && doc.id !== id ? `${file} has id ${JSON.stringify(doc.id)}, not ${id}` : undefined),
};

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

/** `fedbroker auth trust-relationships …`: the document commands, and `explain`. */
export function registerTrustRelationships(auth: Command): void {
  const [token, tokenFile] = tokenSourceOptions('the token to explain', 'file holding the token to explain');
  registerDocumentCommands(auth, TRUST_RELATIONSHIPS)
    .command('explain')
    .description('show which trust relationships would admit a token, and why not')
    .addOption(token)
    .addOption(tokenFile)
    .addOption(tenantGuardOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: { tenant?: string; output: OutputFormat; token?: string; tokenFile?: string }, cmd: Command) => {
      const token = await readTokenSource(opts);
      const res = await tenantApi(cmd, opts, API_ROUTES.explain, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ token }) });
      if (opts.output === 'json') printJson(res.body);
      else printLine(renderExplanation(res.body as Explanation));
    });
}
