import { InvalidArgumentError, type Command } from 'commander';
import { cognitoPoolInputSchema, IDENTITY_POOL_ID, type CognitoPool } from '../../lib/cognito/schema.ts';
import { usageError } from '../errors.ts';
import type { BrokerResponse } from '../http.ts';
import { notice, outputOption, printJson, printLine, renderTable, type OutputFormat } from '../output.ts';
import {
  forcedNote,
  forceOption,
  ifMatchOption,
  IDENTITY_POOLS,
  JSON_TYPE,
  precondition,
  readDocument,
  tenantApi,
  tenantOption,
  type TenantOptions,
} from '../tenant-documents.ts';

interface Common extends TenantOptions {
  output: OutputFormat;
}

function poolId(text: string): string {
  if (!IDENTITY_POOL_ID.test(text)) throw new InvalidArgumentError('an identity pool id is <region>:<guid>');
  return text;
}

const pool = (res: BrokerResponse) => res.body as CognitoPool;
const read = (file: string) => readDocument(file, cognitoPoolInputSchema, 'identity pool');

/**
 * `fedbroker auth cognito-identity-pools …`: the tenant's outbound identity pools (fedbroker as
 * developer provider), through the admin API with the stored token — the same machinery and
 * conventions as `trust-relationships`.
 */
export function registerCognitoPools(auth: Command): void {
  const pools = auth
    .command('cognito-identity-pools')
    .description("manage the identity pools the stored token's tenant vends Cognito tokens for (needs the trust:admin scope)");

  pools
    .command('list')
    .description('list the identity pools')
    .option(...tenantOption)
    .addOption(outputOption(['table', 'json', 'plain'], 'table'))
    .action(async (opts: Common, cmd: Command) => {
      const res = await tenantApi(cmd, opts, IDENTITY_POOLS, { method: 'GET' });
      const items = (res.body as { items?: CognitoPool[] } | undefined)?.items ?? [];
      if (opts.output === 'json') return printJson({ items });
      if (opts.output === 'plain') return items.forEach((p) => printLine(p.identity_pool_id));
      const rows = items.map((p) => [
        p.identity_pool_id,
        p.developer_provider ?? '-',
        String(p.max_duration_seconds),
        String(p.principal_tags),
        String(p.enabled),
        String(p.version),
      ]);
      printLine(renderTable(['identity_pool_id', 'developer_provider', 'max_duration', 'principal_tags', 'enabled', 'version'], rows));
    });

  pools
    .command('get')
    .description('show one identity pool')
    .argument('<pool>', 'identity pool id', poolId)
    .option(...tenantOption)
    .addOption(outputOption(['json'], 'json'))
    .action(async (id: string, opts: Common, cmd: Command) =>
      printJson(pool(await tenantApi(cmd, opts, IDENTITY_POOLS, { method: 'GET', id }))),
    );

  pools
    .command('add')
    .description('add an identity pool from a JSON document (validated locally first)')
    .requiredOption('--file <file>', 'the pool document (JSON): identity_pool_id, developer_provider, max_duration_seconds, principal_tags')
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (opts: Common & { file: string }, cmd: Command) => {
      const doc = await read(opts.file);
      const p = pool(await tenantApi(cmd, opts, IDENTITY_POOLS, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(doc) }));
      notice(`added identity pool ${p.identity_pool_id} (version ${p.version})`);
      if (opts.output === 'json') printJson(p);
    });

  pools
    .command('update')
    .description('replace an identity pool with a JSON document (validated locally first)')
    .argument('<pool>', 'identity pool id', poolId)
    .requiredOption('--file <file>', 'the full pool document (JSON)')
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .action(async (id: string, opts: Common & { file: string; ifMatch?: number; force?: boolean }, cmd: Command) => {
      const doc = await read(opts.file);
      if (doc.identity_pool_id !== id)
        throw usageError(`${opts.file} is for identity pool ${JSON.stringify(doc.identity_pool_id)}, not ${id}`);
      const expected = await precondition(cmd, opts, IDENTITY_POOLS, id);
      const headers = { ...JSON_TYPE, 'If-Match': expected.ifMatch };
      const p = pool(await tenantApi(cmd, opts, IDENTITY_POOLS, { method: 'PUT', id, headers, body: JSON.stringify(doc) }));
      notice(`updated identity pool ${p.identity_pool_id} (version ${p.version}${forcedNote(expected)})`);
      if (opts.output === 'json') printJson(p);
    });

  pools
    .command('remove')
    .description('remove an identity pool: fedbroker stops vending tokens for it')
    .argument('<pool>', 'identity pool id', poolId)
    .option(...ifMatchOption)
    .option(...forceOption)
    .option(...tenantOption)
    .action(async (id: string, opts: TenantOptions & { ifMatch?: number; force?: boolean }, cmd: Command) => {
      const expected = await precondition(cmd, opts, IDENTITY_POOLS, id);
      await tenantApi(cmd, opts, IDENTITY_POOLS, { method: 'DELETE', id, headers: { 'If-Match': expected.ifMatch } });
      notice(`removed identity pool ${id} (was version ${expected.version}${expected.forced ? ', removed with --force' : ''})`);
    });
}
