import { documentItemHandler } from '../lib/http/documents-handler.ts';
import { relationships } from '../lib/tenants/admin.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/trust-relationships/{id} */
export const handler = documentItemHandler(relationships);
