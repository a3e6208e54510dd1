// What each environment variable of lib/config.ts means, written once, next to nothing else.
// Read only by scripts/configuration-doc.ts (which writes docs/configuration.md) and its tests,
// never by a handler: it stays out of the Lambda bundles. A test fails when a variable of
// `envSchema` has no entry here, or an entry names no variable of it.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { envSchema } from './config.ts';
import type { EnvRule } from './env-schema.ts';

/** One variable of `envSchema`: its meaning, and how to describe it when the schema has no default. */
export interface ConfigVariableDoc {
  /** Markdown, one paragraph; links are relative to docs/. */
  meaning: string;
  /** Shown instead of the schema's default (for variables without one, or whose default is computed). */
  unset?: string;
  /** Shown in the deployed column when serverless.yml does not set the variable but something else does. */
  deployed?: string;
}

export const CONFIG_DOCS: Record<string, ConfigVariableDoc> = {
  FEDBROKER_ISSUER: {
    unset: '`FEDBROKER_API_ENDPOINT`',
    meaning:
      'the exact `iss` of every token and the base of every published URL (trailing slashes removed); ' +
      'https with no query, fragment or credentials (http://localhost only with `FEDBROKER_LOCAL=true`). ' +
      'Set it at deploy time for a custom domain ' +
      '([deployment](deployment.md#use-a-custom-domain-as-issuer))',
  },
  FEDBROKER_API_ENDPOINT: {
    unset: '—',
    meaning:
      "the issuer when `FEDBROKER_ISSUER` is empty; serverless.yml sets it to the HTTP API's own endpoint. One of the two is required",
  },
  FEDBROKER_TABLE: {
    unset: 'required',
    meaning:
      'the single DynamoDB table; serverless.yml names it `<service>-<stage>` (`fedbroker-<stage>`) unless ' +
      '`FEDBROKER_TABLE` is set when you deploy',
  },
  FEDBROKER_SIGNER: {
    meaning:
      '`kms` and `kms-data-key` are KMS signers, `local` signs with key files (only with ' +
      '`FEDBROKER_LOCAL=true`). `serverless package` deploys only `kms` or `kms-data-key`, and never ' +
      '`FEDBROKER_LOCAL`/`FEDBROKER_DATA_DIR`; inside Lambda, local mode is refused at start. See [signing ' +
      'keys](operations.md#signing-keys)',
  },
  FEDBROKER_KMS_KEY_ID: {
    unset: 'required with `kms`',
    meaning: "the asymmetric KMS key registered on first start (`kms`); serverless.yml sets the stack's key ARN",
  },
  FEDBROKER_KMS_WRAPPING_KEY_ID: {
    unset: 'required with `kms-data-key`',
    meaning: "the key data key pairs are generated under (`kms-data-key`); serverless.yml sets the stack's symmetric key ARN",
  },
  FEDBROKER_KEY_ROTATION_DAYS: { meaning: 'age at which the active key is replaced' },
  FEDBROKER_KEY_PREPUBLISH_SECONDS: { meaning: 'how long a next key is published before it may sign (≥ `FEDBROKER_JWKS_MAX_AGE`)' },
  FEDBROKER_KEY_RETIREMENT_SECONDS: {
    meaning:
      'how long a retired key stays published (≥ the longer of `FEDBROKER_ID_TOKEN_MAX_TTL` and ' +
      '`FEDBROKER_ACCESS_TOKEN_MAX_TTL`, plus `FEDBROKER_JWKS_MAX_AGE`)',
  },
  FEDBROKER_KEY_DELETION_WINDOW_DAYS: { meaning: 'KMS pending-deletion window for removed keys (7–30)' },
  FEDBROKER_SIGNING_ALG: {
    meaning: 'the algorithm every token is signed with; when you deploy, it also picks the KMS key spec (`RSA_2048` or `ECC_NIST_P256`)',
  },
  FEDBROKER_LOCAL: {
    meaning:
      '`true` only for `npm start` and the tests: allows an http://localhost issuer and the `local` signer; refused inside AWS Lambda',
  },
  FEDBROKER_DATA_DIR: {
    meaning:
      'with `FEDBROKER_SIGNER=local`, the folder of the key files; `npm start` also keeps its dynalite ' +
      'database there, and with `FEDBROKER_AUDIT_TABLE_WRITE=file` the audit copy under `audit/` ' +
      '([local run](local-run.md))',
  },
  FEDBROKER_MANAGED_KEY_TAG: {
    meaning:
      'value of the `fedbroker:managed` tag on rotated keys; the IAM conditions match only it. ' +
      "serverless.yml sets `<service>-<stage>`, so one stage's IAM conditions never match another stage's " +
      'keys',
  },
  AWS_LAMBDA_FUNCTION_NAME: {
    unset: '—',
    deployed: 'set by the Lambda runtime',
    meaning:
      'when it (or an `AWS_EXECUTION_ENV` starting `AWS_Lambda`) is present, `FEDBROKER_LOCAL=true` and ' +
      '`FEDBROKER_SIGNER=local` are refused at start',
  },
  AWS_EXECUTION_ENV: {
    unset: '—',
    deployed: 'set by the Lambda runtime (`AWS_Lambda_<runtime>`)',
    meaning: 'see `AWS_LAMBDA_FUNCTION_NAME`',
  },
  FEDBROKER_ID_TOKEN_TTL: {
    meaning:
      'ID token lifetime, seconds, when the request names no `duration_seconds` (capped by the ' +
      "relationship's `max_duration_seconds`); at most `FEDBROKER_ID_TOKEN_MAX_TTL`",
  },
  FEDBROKER_ID_TOKEN_MAX_TTL: {
    meaning:
      "longest ID token lifetime a request may ask for, seconds (≤ 43200); a relationship's " +
      '`max_duration_seconds` caps it further. AWS sessions over 1 h need it raised ' +
      '([aws](aws.md#sessions-longer-than-one-hour))',
  },
  FEDBROKER_ACCESS_TOKEN_TTL: {
    meaning:
      'fedbroker access token lifetime, seconds, when the request names no `duration_seconds` (capped by ' +
      "the relationship's `max_duration_seconds`); at most `FEDBROKER_ACCESS_TOKEN_MAX_TTL`",
  },
  FEDBROKER_ACCESS_TOKEN_MAX_TTL: {
    meaning:
      "longest fedbroker access token lifetime a request may ask for, seconds; a relationship's `max_duration_seconds` caps it further",
  },
  FEDBROKER_KEY_CACHE_SECONDS: { meaning: 'how long a warm container trusts its copy of the key registry' },
  FEDBROKER_JWKS_MAX_AGE: { meaning: '`Cache-Control: max-age` of the JWKS' },
  FEDBROKER_DISCOVERY_MAX_AGE: { meaning: '`Cache-Control: max-age` of discovery' },
  FEDBROKER_TENANT_CACHE_SECONDS: {
    meaning:
      'bound on how long a warm container keeps using a changed tenant or relationship, or a revoked ' +
      'access token ([kill switches](operations.md#kill-switches))',
  },
  FEDBROKER_AUDIT_RETENTION_DAYS: { meaning: 'how long audit records stay in the table (1–3650)' },
  FEDBROKER_AUDIT_TABLE_WRITE: {
    meaning:
      'who copies audit lines to the table: `subscription` (deployed: log subscription + `auditIngest`), ' +
      '`inline` (this process, in the background, to the table: tests) or `file` (the local run: this ' +
      'process copies its own audit lines, in the background, to JSON-lines files under ' +
      '`FEDBROKER_DATA_DIR`/audit; the audit API reads them; `npm start` sets it). `inline` and `file` are ' +
      'refused inside Lambda. See [audit trail](operations.md#audit-trail)',
  },
  FEDBROKER_SIGN_OFFLOAD: {
    meaning:
      "in-process signers (`local`, `kms-data-key`): sign in libuv's thread pool, RS256 and ES256. Off for " +
      'Lambda, which serves one request per execution environment at a time, so the hand-off only adds ' +
      'latency; on for a process serving concurrent requests (`npm start` sets `true`), where another core ' +
      'signs while the event loop keeps serving',
  },
  FEDBROKER_UPSTREAM_MAX_TOKEN_AGE: { meaning: 'oldest external token accepted (by `iat`), seconds' },
  FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: {
    meaning:
      'farthest `exp` of an external token accepted, seconds from now (plus the 60 s skew); covers GitHub ' +
      "Actions (minutes), GitLab CI (the job's timeout), Kubernetes projected service account tokens (1 h " +
      "by default) and Cognito (at most 24 h). Kubernetes' default API-access token can carry a ~1 year " +
      '`exp` (`--service-account-extend-token-expiration`): project a token with its own audience instead. ' +
      'Raise it only for an issuer configured to mint longer-lived tokens',
  },
  FEDBROKER_UPSTREAM_TIMEOUT_MS: {
    meaning: "deadline for one refresh of an issuer's keys: discovery and JWKS together, bodies included (100–10000)",
  },
  FEDBROKER_COGNITO_ISSUER: { meaning: 'issuer of Cognito identity pool tokens (other partitions); checked like any issuer URL' },
  FEDBROKER_COGNITO_DEVELOPER_PROVIDER: {
    meaning: 'developer provider name, both directions ([aws](aws.md))',
  },
};

/** Variables read outside `envSchema`, with the file that reads them (a test checks it still does). */
export interface OtherVariableDoc {
  name: string;
  /** Repository-relative path of a file that reads the variable. */
  readBy: string;
  meaning: string;
}

export const OTHER_VARIABLES: OtherVariableDoc[] = [
  {
    name: 'PORT',
    readBy: 'scripts/start-local.ts',
    meaning: '`npm start`: the port of the broker (default 8787; `FEDBROKER_PORT` also works)',
  },
  { name: 'FEDBROKER_PORT', readBy: 'scripts/start-local.ts', meaning: '`npm start`: the port, when `PORT` is unset' },
  {
    name: 'FEDBROKER_DEV_ISSUER_PORT',
    readBy: 'scripts/start-local.ts',
    meaning: "`npm start`: the port of the dev-only issuer (default: the broker's port + 2)",
  },
  {
    name: 'FEDBROKER_DYNAMODB_PORT',
    readBy: 'scripts/start-local.ts',
    meaning: '`npm start`: the port of the embedded dynalite (default: any free port)',
  },
  {
    name: 'FEDBROKER_ENDPOINT',
    readBy: 'cli/main.ts',
    meaning:
      'the CLI: the broker endpoint, like `--endpoint` (default `http://localhost:8787`); set it when `npm start` runs on another port',
  },
  {
    name: 'FEDBROKER_COGNITO_POOL_ARNS',
    readBy: 'serverless.yml',
    meaning:
      'deploy time: comma-separated identity pool ARNs fedbroker may call ' +
      '`GetOpenIdTokenForDeveloperIdentity` on; unset, IAM refuses every vend ' +
      '([aws](aws.md#fedbroker--cognito-identity-pools-developer-provider))',
  },
  {
    name: 'FEDBROKER_COGNITO_ROLE_ARNS',
    readBy: 'serverless.yml',
    meaning:
      'deploy time: comma-separated role ARNs fedbroker may assume (`sts:AssumeRole`) for identity pools in other accounts; unset, none',
  },
  {
    name: 'FEDBROKER_ROTATION_SCHEDULE',
    readBy: 'serverless.yml',
    meaning: "deploy time: the rotation function's schedule (default `rate(1 day)`)",
  },
];

/** The schema's variables, in declaration order. */
export function schemaVariables(): string[] {
  return Object.keys(envSchema);
}

function rule(name: string): EnvRule<unknown> {
  const entry = (envSchema as Record<string, EnvRule<unknown> | undefined>)[name];
  if (!entry) throw new Error(`lib/config.ts: envSchema has no ${name}`);
  return entry;
}

/** The default of one schema entry, as Markdown, or undefined when it has none. */
function schemaDefault(name: string): string | undefined {
  const { default: fallback } = rule(name);
  return fallback === undefined ? undefined : `\`${String(fallback)}\``;
}

/** The allowed values of a choice, or undefined. */
function schemaChoices(name: string): readonly string[] | undefined {
  return rule(name).choices;
}

/** What serverless.yml's `provider.environment` gives each variable in a deployment. */
function deployedValues(serverlessYml: string): Record<string, unknown> {
  const doc = parse(serverlessYml, { logLevel: 'silent' }) as { provider?: { environment?: Record<string, unknown> } };
  return doc.provider?.environment ?? {};
}

function deployedCell(value: unknown, otherwise = 'not set: the default'): string {
  if (value === undefined) return otherwise;
  if (typeof value === 'string') return `\`${value}\``;
  const [fn, args] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  return `\`${fn}: ${JSON.stringify(args)}\``;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * docs/configuration.md, from `envSchema` (variables and defaults), CONFIG_DOCS (meanings) and
 * serverless.yml (what a deployment sets). `npm run docs` writes it; a test compares.
 */
export function renderConfigurationDoc(serverlessYml = readFileSync('serverless.yml', 'utf8')): string {
  const deployed = deployedValues(serverlessYml);
  const rows = schemaVariables().map((name) => {
    const doc = CONFIG_DOCS[name];
    if (!doc) throw new Error(`lib/config-docs.ts: no entry for ${name}`);
    const fallback = schemaDefault(name) ?? doc.unset ?? 'unset';
    const others = (schemaChoices(name) ?? []).filter((c) => `\`${c}\`` !== fallback);
    const values = others.length ? `${fallback} (or ${others.map((c) => `\`${c}\``).join(', ')})` : fallback;
    return `| \`${name}\` | ${cell(values)} | ${cell(deployedCell(deployed[name], doc.deployed))} | ${cell(doc.meaning)} |`;
  });
  const others = OTHER_VARIABLES.map((v) => `| \`${v.name}\` | \`${v.readBy}\` | ${cell(v.meaning)} |`);
  return [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs` (scripts/configuration-doc.ts) from lib/config.ts, lib/config-docs.ts and',
    '     serverless.yml. Do not edit: a test fails when this file and its sources disagree. -->',
    '',
    'Parsed once per container by `lib/config.ts`; every problem is reported at once, and a misconfigured function',
    'answers a generic 500 with a request id (details in its log).',
    '',
    'The **deployed** column is what `provider.environment` in `serverless.yml` sets (`${env:NAME, fallback}` takes',
    'the variable from your shell when you run `serverless deploy`); a variable it does not set keeps its default in',
    'a deployment unless you add it there.',
    '',
    '| variable | default | deployed | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    "AWS endpoints are changed only through the SDK's standard variables (`AWS_ENDPOINT_URL`,",
    '`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`, …).',
    '',
    '## Read elsewhere',
    '',
    '| variable | read by | meaning |',
    '| --- | --- | --- |',
    ...others,
    '',
  ].join('\n');
}
