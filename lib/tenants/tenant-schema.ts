import * as z from '../zod.ts';
import { TENANT_ID, TENANT_STATUSES, type Tenant } from './tenant.ts';

/** What creating a tenant accepts (operator bootstrap, `lib/app/documents.ts` createTenant). */
export const tenantSchema = z.strictObject({
  id: z.string().check(z.regex(TENANT_ID, '3-63 of lower-case letters, digits and dashes, starting with a letter or digit')),
  name: z.string().check(z.minLength(1), z.maxLength(128)),
  status: z.enum(TENANT_STATUSES),
}) satisfies z.ZodMiniType<Pick<Tenant, 'id' | 'name' | 'status'>>;
