import { KMSClient } from '@aws-sdk/client-kms';
import { CognitoIdentityAdapter } from './aws/cognito-identity.ts';
import { DynamoKeyStore } from './aws/dynamo-key-store.ts';
import { DynamoTrustStore } from './aws/dynamo-trust-store.ts';
import { Table } from './aws/dynamo-table.ts';
import { SDK_DEFAULTS } from './aws/errors.ts';
import { KmsSigner } from './aws/kms-signer.ts';
import { systemClock, type Clock } from './clock.ts';
import type { CognitoIdentityPort } from './cognito/ports.ts';
import { loadConfig, type Config } from './config.ts';
import { KeyRing } from './keys/keyring.ts';
import type { Signer } from './keys/ports.ts';
import { FileSigner } from './local/file-signer.ts';
import type { AdminDeps } from './tenants/admin.ts';
import { TenantDirectory } from './tenants/directory.ts';
import type { TrustContext } from './trust/policy.ts';
import type { TrustStore } from './tenants/ports.ts';
import { UpstreamKeys } from './upstream/key-cache.ts';

/** Everything a handler needs, built once per container from the environment. */
export interface Runtime {
  config: Config;
  clock: Clock;
  table: Table;
  signer: Signer;
  keyRing: KeyRing;
  trustStore: TrustStore;
  directory: TenantDirectory;
  upstreamKeys: UpstreamKeys;
  cognito: CognitoIdentityPort;
}

let built: Runtime | undefined;

/** The deployment facts trust relationships are compiled against. */
export function trustContext(config: Config): TrustContext {
  return { cognitoIssuer: config.cognito.issuer, developerProvider: config.cognito.developerProvider };
}

/** What the admin operations need from the runtime. */
export function adminDeps(rt: Runtime): AdminDeps {
  return { store: rt.trustStore, clock: rt.clock, local: rt.config.local, cognitoIssuer: rt.config.cognito.issuer };
}

/**
 * The container's runtime, built on first use. SDK clients pick their endpoints from the SDK's
 * standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`, …), never custom ones.
 * A configuration error is thrown on every call (and mapped to a logged 500), never cached.
 */
export function runtime(): Runtime {
  if (built) return built;
  const config = loadConfig();
  const clock = systemClock;
  const table = new Table(config.tableName);
  const signer: Signer =
    config.signer.kind === 'kms'
      ? new KmsSigner(new KMSClient(SDK_DEFAULTS))
      : new FileSigner(config.signer.dataDir, config.signer.alg);
  const keyRing = new KeyRing({ store: new DynamoKeyStore(table), signer, clock, config });
  const trustStore = new DynamoTrustStore(table);
  const directory = new TenantDirectory({ store: trustStore, clock, ttlSeconds: config.tenantCacheSeconds, context: trustContext(config) });
  const upstreamKeys = new UpstreamKeys({ clock, timeoutMs: config.upstream.timeoutMs, local: config.local });
  built = { config, clock, table, signer, keyRing, trustStore, directory, upstreamKeys, cognito: new CognitoIdentityAdapter() };
  return built;
}
