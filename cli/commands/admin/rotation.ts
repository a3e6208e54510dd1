import { systemClock } from '../../../lib/clock.ts';
import { ConfigError } from '../../../lib/errors.ts';
import type { KeyEvent, RotationDeps, RotationReport } from '../../../lib/keys/rotation.ts';
import { usageError } from '../../errors.ts';
import { operatorEnvironment } from '../../operator.ts';
import { notice, type OutputFormat, printJson, printLine } from '../../output.ts';

export interface KeyOptions {
  table?: string;
  output: OutputFormat;
}

/** Every key change made here is attributed to this actor in the audit trail (tenant `_system`). */
export const ACTOR = 'operator:cli';

/**
 * Rotation never reads the issuer, but loadConfig requires one, so the operator need not know the
 * deployment's: a placeholder under the reserved .invalid TLD (RFC 2606) is used when none is set.
 */
const PLACEHOLDER_ISSUER = 'https://issuer.fedbroker.invalid';

export const ENVIRONMENT_HELP = `
Runs against the table and KMS directly with your AWS credentials (SDK default chain), configured
by the same variables as the deployment:
  FEDBROKER_TABLE (or --table)       the broker's DynamoDB table
  FEDBROKER_SIGNER                   kms (default) or kms-data-key
  FEDBROKER_KMS_KEY_ID               with kms: the stack's signing key ARN
  FEDBROKER_KMS_WRAPPING_KEY_ID      with kms-data-key: the stack's wrapping key ARN
  FEDBROKER_SIGNING_ALG              RS256 (default) or ES256: new keys use it
  FEDBROKER_MANAGED_KEY_TAG          with kms: the stage's fedbroker:managed tag value, <service>-<stage> (default: the table name)
  FEDBROKER_KEY_*                    only if the deployment changed them (retirement, pre-publication, deletion window)
  AWS_REGION                         the deployment's region
FEDBROKER_ISSUER is not needed (any https URL will do).
With none of these set, and \`npm start\` running here, it runs against that local run.`;

/**
 * Builds what rotation needs the way the deployment does — loadConfig, createSigner,
 * DynamoKeyStore — with key events printed as they happen (so a refused manual rotation still
 * reports the next key it published) and recorded in the audit trail. Refuses when the active
 * key was made by another signer or algorithm than configured: new keys would not match it.
 */
export async function withRotation(opts: KeyOptions, fn: (deps: RotationDeps) => Promise<RotationReport>): Promise<RotationReport> {
  const env = operatorEnvironment(opts.table);
  const [{ loadConfig }, { createSigner }, { Table }, { DynamoKeyStore }, { AuditTrail }, { auditCopy }, { tableSink }] = await Promise.all(
    [
      import('../../../lib/config.ts'),
      import('../../../lib/handlers/runtime.ts'),
      import('../../../lib/aws/dynamo-table.ts'),
      import('../../../lib/aws/dynamo-key-store.ts'),
      import('../../../lib/audit/trail.ts'),
      import('../../../lib/handlers/audit-copy.ts'),
      import('../../../lib/audit/sinks.ts'),
    ],
  );
  const issuer = env.FEDBROKER_ISSUER || env.FEDBROKER_API_ENDPOINT || PLACEHOLDER_ISSUER;
  let config: ReturnType<typeof loadConfig>;
  try {
    // The deployment tags its keys `<service>-<stage>`, which is also its default table name.
    const managedTag = env.FEDBROKER_MANAGED_KEY_TAG || env.FEDBROKER_TABLE;
    config = loadConfig({ ...env, FEDBROKER_ISSUER: issuer, FEDBROKER_MANAGED_KEY_TAG: managedTag });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw usageError(`set the signer configuration the deployment uses (see --help): ${e.issues.join('; ')}`);
  }
  const table = new Table(config.tableName);
  const store = new DynamoKeyStore(table);
  const signer = createSigner(config);
  const events: KeyEvent[] = [];
  const trail = new AuditTrail({
    sink: tableSink(auditCopy(config, table)),
    clock: systemClock,
    retentionDays: config.auditRetentionDays,
  });
  const onKeyEvent = async (event: KeyEvent) => {
    events.push(event);
    if (opts.output !== 'json') printLine(`${event.kid}  ${event.from} → ${event.to}${event.forced ? '  (forced)' : ''}`);
    await trail.keyEvent(event);
  };
  try {
    const { keys, active } = await store.readRegistry();
    const current = keys.find((k) => k.kid === active?.kid);
    if (current && (current.signer !== signer.kind || current.alg !== config.signer.alg)) {
      throw usageError(
        `the active key ${current.kid} is ${current.signer}/${current.alg}, ` +
          `but FEDBROKER_SIGNER/FEDBROKER_SIGNING_ALG say ${signer.kind}/${config.signer.alg}; set them as the deployment does`,
      );
    }
    const report = await fn({ store, signer, clock: systemClock, config, onKeyEvent });
    if (opts.output === 'json')
      printJson({
        events,
        ...(report.skipped ? { skipped: report.skipped } : {}),
        ...(report.readyAt !== undefined ? { ready_at: new Date(report.readyAt * 1000).toISOString() } : {}),
      });
    if (events.some((e) => e.forced && e.to === 'active'))
      notice('forced: the new key signs before verifiers caching the JWKS may have seen it (recorded in the audit trail)');
    if (events.some((e) => e.to === 'active' || e.to === 'revoked')) {
      notice(`running broker instances use the new key registry within FEDBROKER_KEY_CACHE_SECONDS (${config.keyCacheSeconds}s)`);
    }
    return report;
  } catch (e) {
    // The JSON answer still lists what changed before the failure (e.g. the next key published).
    if (opts.output === 'json' && events.length) printJson({ events });
    throw e;
  } finally {
    table.doc.destroy();
  }
}
