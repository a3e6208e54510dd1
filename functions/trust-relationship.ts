import { documentItemHandler } from '../lib/handlers/documents.ts';
import { relationships } from '../lib/app/documents.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/trust-relationships/{id} */
export const handler = documentItemHandler(relationships);
