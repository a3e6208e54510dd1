import { documentCollectionHandler } from '../lib/http/documents-handler.ts';
import { identityPools } from '../lib/tenants/admin.ts';

/** GET|POST /v1/tenants/{tenant}/cognito-identity-pools */
export const handler = documentCollectionHandler(identityPools);
