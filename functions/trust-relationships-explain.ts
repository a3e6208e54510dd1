import { explainToken } from '../lib/app/explain.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { scopedHandler, tenantReads } from '../lib/handlers/scope.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { json } from '../lib/http/response.ts';

/** POST /v1/tenants/{tenant}/trust-relationships:explain — why a token would or would not be admitted. */
export const handler = scopedHandler({ methods: ['POST'], scope: 'trust:admin', tenant: 'path' }, async (event, caller) => {
  const body = parseJsonBody(event);
  // `source_ip` and `audience` ask "what if" for the request-context keys (lib/trust/context.ts).
  const what = {
    sourceIp: typeof body.source_ip === 'string' ? body.source_ip.slice(0, 64) : undefined,
    requestedAudience: typeof body.audience === 'string' ? body.audience.slice(0, 256) : undefined,
  };
  return json(
    200,
    await explainToken({ ...runtime().explainDeps, readTenant: tenantReads(caller).readTenant }, caller.tenant, body.token, what),
  );
});
