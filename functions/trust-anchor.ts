import { documentItemHandler } from '../lib/handlers/documents.ts';
import { trustAnchors } from '../lib/app/trust-anchors.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/trust-anchors/{id} */
export const handler = documentItemHandler(trustAnchors);
