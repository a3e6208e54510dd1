import { rotateKeys } from '../lib/keys/rotation.ts';
import { logger } from '../lib/log.ts';
import { rotationDeps, runtime } from '../lib/handlers/runtime.ts';

/**
 * Scheduled (daily) key rotation: publishes a next key, activates it once the active key is older
 * than the rotation period and the next key has been published for the pre-publication window,
 * and removes retired keys whose tokens can no longer be valid. Runs under its own IAM role.
 */
export const handler = async (): Promise<{ events: number; skipped?: string }> => {
  const rt = runtime();
  const report = await rotateKeys(rotationDeps(rt), { actor: 'schedule' });
  rt.keyRing.invalidate();
  logger.info('key rotation finished', { events: report.events.length, skipped: report.skipped });
  return { events: report.events.length, ...(report.skipped ? { skipped: report.skipped } : {}) };
};
