import { InvalidArgumentError } from 'commander';
import { API_ROUTES } from '../../../lib/api-paths.ts';
import { RELATIONSHIP_ID } from '../../../lib/trust/relationship-id.ts';
import { type TrustAnchor, trustAnchorInputSchema } from '../../../lib/x509/anchor.ts';
import type { DocumentKind } from '../../tenant-documents.ts';

function anchorId(text: string): string {
  if (!RELATIONSHIP_ID.test(text)) throw new InvalidArgumentError('a trust anchor id is 1-63 lower-case letters, digits and dashes');
  return text;
}

/**
 * `fedbroker auth trust-anchors …`: the tenant's X.509 trust anchors — CA bundles and CRLs
 * certificates must chain to (docs/x509.md) — through the admin API with the stored token.
 */
export const TRUST_ANCHORS: DocumentKind<TrustAnchor & Record<string, unknown>> = {
  command: 'trust-anchors',
  description: "manage the stored token's tenant's X.509 trust anchors: CA bundles and CRLs (needs the trust:admin scope)",
  label: 'trust anchor',
  routes: { list: API_ROUTES.trustAnchors, item: API_ROUTES.trustAnchor },
  schema: trustAnchorInputSchema(),
  id: { argument: '<id>', description: 'trust anchor id', parse: anchorId, of: (a) => a.id },
  help: {
    list: 'list the trust anchors',
    get: 'show one trust anchor',
    add: 'add a trust anchor from a JSON document (validated locally, each certificate and CRL checked by the broker)',
    update: 'replace a trust anchor: a new bundle, new CRLs, or "enabled": false (the kill switch for new sessions)',
    remove: 'remove a trust anchor: certificates chaining to it get no new sessions',
    addFile: 'the anchor document (JSON): id, certificates (PEM bundle), crls (PEM or base64 DER), enabled',
    updateFile: 'the full anchor document (JSON)',
  },
  added: 'added',
  getFormats: ['json', 'table'],
  table: {
    columns: ['id', 'enabled', 'crls', 'version'],
    row: (a) => [a.id, String(a.enabled), String(a.crls?.length ?? 0), String(a.version)],
  },
  mismatch: (doc, id, file) =>
    doc.id !== undefined && doc.id !== id ? `${file} is for trust anchor ${JSON.stringify(doc.id)}, not ${id}` : undefined,
};
