import { runtime } from '../lib/handlers/runtime.ts';
import { rotateKeys } from '../lib/keys/rotation.ts';
import { lambdaHandler } from '../lib/lambda.ts';
import { logger } from '../lib/log.ts';

/**
 * Scheduled (daily) key rotation: publishes a next key, activates it once the active key is older
 * than the rotation period and the next key has been published for the pre-publication window,
 * and removes retired keys whose tokens can no longer be valid. Runs under its own IAM role; each
 * key state change is audited through the rotation's `onKeyEvent` hook (runtime().rotationDeps).
 */
export const handler = lambdaHandler(async (): Promise<{ events: number; skipped?: string }> => {
  const { rotationDeps, keyRing } = runtime();
  const report = await rotateKeys(rotationDeps, { actor: 'schedule' });
  keyRing.invalidate();
  logger.info('key rotation finished', { events: report.events.length, skipped: report.skipped });
  return { events: report.events.length, ...(report.skipped ? { skipped: report.skipped } : {}) };
});
