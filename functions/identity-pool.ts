import { documentItemHandler } from '../lib/handlers/documents.ts';
import { identityPools } from '../lib/app/documents.ts';

/** GET|PUT|DELETE /v1/tenants/{tenant}/cognito-identity-pools/{id} */
export const handler = documentItemHandler(identityPools);
