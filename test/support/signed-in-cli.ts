// A broker behind the local HTTP API, one tenant (`acme`) whose relationship `ci` admits the
// upstream subject `deployer` with id-token:issue, and a CLI config home signed in to it: what the
// output commands (gcp, azure, aws serve) need before they can issue ID tokens.
import { expect } from 'vitest';
import { startBroker, type TestBroker } from './broker.ts';
import { builtCli, cliRunner, tempConfigHome, type RunCli } from './cli.ts';
import { startGateway } from './gateway.ts';
import { startStsStandIn, type StsStandIn } from './sts-stand-in.ts';
import { tenantAdmin } from './tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from './upstream-issuer.ts';

export interface SignedInCli {
  broker: TestBroker;
  gateway: { url: string; close(): Promise<void> };
  upstream: UpstreamIssuer;
  /** HOME, XDG_CONFIG_HOME and FEDBROKER_ENDPOINT of the signed-in CLI. */
  env: Record<string, string>;
  cli: RunCli;
  /** The `sub` of the ID tokens the broker issues to this principal. */
  subject: string;
  close(): Promise<void>;
}

export interface SignedInOptions {
  /** Fields added to (or replacing) those of the `ci` relationship, e.g. `session_tags`. */
  relationship?: Record<string, unknown>;
  /** Claims of the upstream token the CLI signs in with, besides `sub: 'deployer'`. */
  claims?: Record<string, unknown>;
}

export async function startSignedInCli(extraEnv: Record<string, string> = {}, options: SignedInOptions = {}): Promise<SignedInCli> {
  const [broker, upstream] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), builtCli()]);
  const gateway = await startGateway((m) => broker.load(m));
  // Relying parties fetch discovery and the JWKS from the ID token's issuer: here, the gateway itself.
  broker.coldStart({ FEDBROKER_ISSUER: gateway.url });
  await tenantAdmin(broker.tableName).tenant('acme', [
    {
      kind: 'oidc',
      id: 'ci',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'deployer' } },
      scopes: ['id-token:issue'],
      // What each output asks for: STS, Entra's token exchange, Google's workload identity providers.
      id_token_audiences: ['sts.amazonaws.com', 'api://AzureADTokenExchange', 'https://iam.googleapis.com/projects/*'],
      ...options.relationship,
    },
  ]);
  const home = tempConfigHome();
  const env = { HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_ENDPOINT: gateway.url, ...extraEnv };
  const cli = cliRunner(env);
  const res = await cli([
    'auth',
    'exchange-oidc-token',
    '--tenant',
    'acme',
    '--token',
    await upstream.token({ sub: 'deployer', ...options.claims }),
  ]);
  expect(res.code, res.stderr).toBe(0);
  return {
    broker,
    gateway,
    upstream,
    env,
    cli,
    subject: 'acme/ci/deployer',
    async close() {
      await Promise.all([gateway.close(), upstream.close()]);
      await broker.close();
    },
  };
}

export interface SignedInAwsCli extends SignedInCli {
  sts: StsStandIn;
}

/**
 * {@link startSignedInCli} with the STS stand-in: the CLI's env points the AWS SDK at it
 * (AWS_ENDPOINT_URL_STS, AWS_REGION us-east-1). Trust no role yet: callers `sts.addRole` theirs,
 * with `providerUrl: gateway.url`.
 */
export async function startSignedInAwsCli(options: SignedInOptions = {}): Promise<SignedInAwsCli> {
  const sts = await startStsStandIn();
  try {
    const s = await startSignedInCli({ AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' }, options);
    return {
      ...s,
      sts,
      async close() {
        await Promise.all([s.close(), sts.close()]);
      },
    };
  } catch (err) {
    await sts.close();
    throw err;
  }
}

/** `export K=V` lines as a map (the values the CLI prints never need quoting). */
export const exportsOf = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => /^export (\w+)=(.*)$/.exec(l)!.slice(1, 3) as [string, string]),
  );

/** Runs `fn` with `vars` in this process's environment, where client libraries read them. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}
