import { documentCollectionHandler } from '../lib/http/documents-handler.ts';
import { relationships } from '../lib/tenants/admin.ts';

/** GET|POST /v1/tenants/{tenant}/trust-relationships */
export const handler = documentCollectionHandler(relationships);
