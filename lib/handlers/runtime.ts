import { KMSClient } from '@aws-sdk/client-kms';
import { InlineAuditProjection } from '../audit/inline-projection.ts';
import { auditLinesSilenced, LogAuditSink } from '../audit/sinks.ts';
import { auditCopy } from './audit-copy.ts';
import type { AuditReader, AuditSink } from '../audit/ports.ts';
import { AuditTrail } from '../audit/trail.ts';
import { DynamoKeyStore } from '../aws/dynamo-key-store.ts';
import { DynamoNonceStore } from '../aws/dynamo-nonce-store.ts';
import type { X509Deps } from '../app/x509.ts';
import { DynamoRevocationStore } from '../aws/dynamo-revocation-store.ts';
import { DynamoTrustStore } from '../aws/dynamo-trust-store.ts';
import { Table } from '../aws/dynamo-table.ts';
import { SDK_DEFAULTS } from '../aws/errors.ts';
import { KmsDataKeySigner } from '../aws/kms-data-key-signer.ts';
import { KmsSigner } from '../aws/kms-signer.ts';
import { systemClock, type Clock } from '../clock.ts';
import { loadConfig, type Config } from '../config.ts';
import { KeyRing } from '../keys/keyring.ts';
import type { KeyStore, Signer } from '../keys/ports.ts';
import type { RotationDeps } from '../keys/rotation.ts';
import { FileSigner } from '../local/file-signer.ts';
import { countUpstreamKeyFetch } from '../metrics.ts';
import { TenantDenyList } from '../directory/deny-list.ts';
import type { RevocationStore } from '../revocation/ports.ts';
import type { AdminDeps } from '../app/documents.ts';
import type { ExchangeDeps } from '../app/exchange.ts';
import type { ExchangeAuditDeps } from '../app/record-exchange.ts';
import type { ExplainDeps } from '../app/explain.ts';
import type { RevokeDeps } from '../app/revoke.ts';
import type { BearerDeps } from '../auth/bearer.ts';
import { TenantDirectory } from '../directory/directory.ts';
import type { TrustContext } from '../trust/policy.ts';
import type { TrustStore } from '../directory/ports.ts';
import { UpstreamKeys } from '../upstream/key-cache.ts';

/** Everything a handler needs, built once per container from the environment. */
export interface Runtime {
  config: Config;
  clock: Clock;
  table: Table;
  signer: Signer;
  keyRing: KeyRing;
  keyStore: KeyStore;
  trustStore: TrustStore;
  directory: TenantDirectory;
  upstreamKeys: UpstreamKeys;
  /** The access-token deny list, served from the tenant directory's cached views. */
  revocations: RevocationStore;
  /** Writes audit records (a log line; the table copy follows, see `config.auditTableWrite`). */
  audit: AuditTrail;
  /** Reads a tenant's audit records back. */
  auditLog: AuditReader;
  // What each use case needs, wired once here: handlers pass these, never the runtime itself.
  /** Bearer tokens of API calls (lib/handlers/scope.ts). */
  bearerDeps: BearerDeps;
  exchangeDeps: ExchangeDeps;
  exchangeAuditDeps: ExchangeAuditDeps;
  revokeDeps: RevokeDeps;
  adminDeps: AdminDeps;
  explainDeps: ExplainDeps;
  rotationDeps: RotationDeps;
  /** Certificate sessions (lib/app/x509.ts): the exchange's minting plus the nonce store (NONCE#). */
  x509Deps: X509Deps;
  x509ExplainDeps: { store: TrustStore; clock: Clock; context: TrustContext };
}

let built: Runtime | undefined;
/** The background copy of the audit lines, `inline` and `file` only (see `auditStorage`). */
let inlineCopy: InlineAuditProjection | undefined;

/** The signer adapter the configuration names. */
export function createSigner(config: Config): Signer {
  const s = config.signer;
  if (s.kind === 'local') return new FileSigner(s.dataDir, s.alg, s.offload);
  const kms = new KMSClient(SDK_DEFAULTS);
  if (s.kind === 'kms-data-key') return new KmsDataKeySigner(kms, { wrappingKeyId: s.wrappingKeyId, alg: s.alg, offload: s.offload });
  return new KmsSigner(kms, {
    keyId: s.keyId,
    alg: s.alg,
    deletionWindowDays: config.keys.deletionWindowDays,
    managedTag: config.keys.managedTag,
  });
}

/** The deployment facts trust relationships are compiled against. */
function trustContext(config: Config): TrustContext {
  return { cognitoIssuer: config.cognito.issuer, developerProvider: config.cognito.developerProvider };
}

/**
 * The audit trail's sink and reader. Deployed, the sink is the log line alone and the table copy
 * comes from the log subscription; `inline` (to the table) and `file` (to JSON-lines files under
 * the data folder: the local run, where dynalite's cost per item would be a third of a request's
 * CPU), this process copies its own lines, and reads wait for that copy so the audit API sees
 * every record this process wrote.
 */
function auditStorage(config: Config, table: Table, clock: Clock): { sink: AuditSink; reader: AuditReader } {
  const stored = auditCopy(config, table, clock);
  if (config.auditTableWrite === 'subscription') {
    // The line is the only record here: with lines silenced, nothing could be granted audited.
    if (auditLinesSilenced)
      return {
        sink: {
          write: () => Promise.reject(new Error('audit lines are silenced (POWERTOOLS_LOG_LEVEL=SILENT) and no other copy is configured')),
        },
        reader: stored,
      };
    return { sink: new LogAuditSink(), reader: stored };
  }
  const projection = new InlineAuditProjection(stored);
  inlineCopy = projection;
  return {
    sink: new LogAuditSink({ copy: (line) => projection.add(line) }),
    reader: {
      query: async (tenant, q) => {
        await projection.drain();
        return stored.query(tenant, q);
      },
    },
  };
}

/**
 * Waits until the audit lines written so far are in their copy (`inline`, `file`; at once otherwise):
 * the local run calls it before it stops, so its last records are not lost with the process.
 */
export function drainAuditCopy(): Promise<void> {
  return inlineCopy?.drain() ?? Promise.resolve();
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
  const signer = createSigner(config);
  const keyStore = new DynamoKeyStore(table);
  const keyRing = new KeyRing({ store: keyStore, signer, clock, config });
  const trustStore = new DynamoTrustStore(table);
  const directory = new TenantDirectory({ store: trustStore, clock, ttlSeconds: config.tenantCacheSeconds, context: trustContext(config) });
  const upstreamKeys = new UpstreamKeys({
    clock,
    timeoutMs: config.upstream.timeoutMs,
    local: config.local,
    onFetch: countUpstreamKeyFetch,
  });
  const { sink, reader: auditLog } = auditStorage(config, table, clock);
  const audit = new AuditTrail({ sink, clock, retentionDays: config.auditRetentionDays });
  const revocations = new TenantDenyList({ directory, writer: new DynamoRevocationStore(table) });
  const { issuer } = config;
  built = {
    config,
    clock,
    table,
    signer,
    keyRing,
    keyStore,
    trustStore,
    directory,
    upstreamKeys,
    revocations,
    audit,
    auditLog,
    bearerDeps: { issuer, keyRing, clock, directory, revocations },
    exchangeDeps: { issuer, keyRing, signer, clock, config, directory, upstreamKeys, revocations },
    exchangeAuditDeps: { audit, issuer, tenantExists: async (t) => (await directory.get(t)).tenant !== undefined },
    revokeDeps: { issuer, keyRing, clock, revocations, accessTokenMaxTtl: config.tokens.accessTokenMaxTtl },
    adminDeps: { store: trustStore, clock, local: config.local, cognitoIssuer: config.cognito.issuer },
    explainDeps: { issuer, store: trustStore, upstreamKeys, clock, upstream: config.upstream, context: trustContext(config) },
    rotationDeps: { store: keyStore, signer, clock, config, onKeyEvent: audit.keyEvent },
    x509Deps: { issuer, keyRing, signer, clock, config, directory, nonces: new DynamoNonceStore(table) },
    x509ExplainDeps: { store: trustStore, clock, context: trustContext(config) },
  };
  return built;
}
