import { documentItemHandler } from '../lib/http/documents-handler.ts';
import { identityPools } from '../lib/tenants/admin.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/cognito-identity-pools/{id} */
export const handler = documentItemHandler(identityPools);
