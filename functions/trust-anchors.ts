import { documentCollectionHandler } from '../lib/handlers/documents.ts';
import { trustAnchors } from '../lib/app/trust-anchors.ts';

/** GET|POST /v1/tenants/{tenant}/trust-anchors */
export const handler = documentCollectionHandler(trustAnchors);
