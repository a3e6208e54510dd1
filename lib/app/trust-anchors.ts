import { RELATIONSHIP_ID } from '../trust/relationship-id.ts';
import { ANCHOR_LIMITS, type TrustAnchor, validateAnchor } from '../x509/anchor.ts';
import { documents } from './documents.ts';

/**
 * X.509 trust anchors: CA bundles and CRLs certificates must chain to (docs/x509.md). Validated
 * when stored (threat model I10); `enabled: false` is the kill switch for new sessions. Kept out
 * of documents.ts so that only the functions that handle certificates bundle the X.509 code.
 */
export const trustAnchors = documents<TrustAnchor>({
  label: 'trust anchor',
  prefix: 'ANCHOR',
  idPattern: RELATIONSHIP_ID,
  validate: (body, deps) => validateAnchor(body, new Date(deps.clock.now())),
  pick: (record) => record.anchors ?? [],
  max: ANCHOR_LIMITS.anchorsPerTenant,
});
