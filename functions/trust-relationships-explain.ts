import { authorize } from '../lib/auth/bearer.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { tenantParam } from '../lib/http/params.ts';
import { json } from '../lib/http/response.ts';
import { runtime, trustContext } from '../lib/handlers/runtime.ts';
import { explainToken } from '../lib/app/explain.ts';

/** POST /v1/tenants/{tenant}/trust-relationships:explain — why a token would or would not be admitted. */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const tenant = tenantParam(event);
    await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
    const body = parseJsonBody(event);
    return json(
      200,
      await explainToken(
        { ...rt, store: rt.trustStore, upstream: rt.config.upstream, context: trustContext(rt.config) },
        tenant,
        body.token,
        {
          sourceIp: typeof body.source_ip === 'string' ? body.source_ip.slice(0, 64) : undefined,
          requestedAudience: typeof body.audience === 'string' ? body.audience.slice(0, 256) : undefined,
        },
      ),
    );
  },
  { methods: ['POST'] },
);
