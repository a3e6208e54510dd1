import { documentCollectionHandler } from '../lib/handlers/documents.ts';
import { identityPools } from '../lib/app/documents.ts';

/** GET|POST /v1/tenants/{tenant}/cognito-identity-pools */
export const handler = documentCollectionHandler(identityPools);
