import { documentCollectionHandler } from '../lib/handlers/documents.ts';
import { relationships } from '../lib/app/documents.ts';

/** GET|POST /v1/tenants/{tenant}/trust-relationships */
export const handler = documentCollectionHandler(relationships);
