import { certificateSession, explainCertificate } from '../lib/app/x509.ts';
import { authorize } from '../lib/auth/bearer.ts';
import { InvalidRequest } from '../lib/errors.ts';
import { audited, certificateSessionAudit } from '../lib/handlers/audit.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { tenantParam } from '../lib/http/params.ts';
import { requestInfo } from '../lib/http/request-info.ts';
import { json } from '../lib/http/response.ts';

/**
 * POST /v1/tenants/{tenant}/x509/sessions — a request signed the IAM Roles Anywhere way for a
 * fedbroker access token (docs/x509.md), one audit record each; POST
 * /v1/tenants/{tenant}/x509:explain — why a certificate would or would not be admitted
 * (`trust:admin` of the tenant). One function, so only it (and the anchor documents) bundles pkijs.
 */
export const handler = httpHandler(
  async (event, context) => {
    const { x509Deps, x509ExplainDeps, exchangeAuditDeps, bearerDeps } = runtime();
    if (event.rawPath.endsWith(':explain')) {
      const tenant = tenantParam(event);
      await authorize(bearerDeps, event.headers?.authorization, tenant, 'trust:admin');
      return json(200, await explainCertificate(x509ExplainDeps, tenant, parseJsonBody(event)));
    }
    const raw = event.body ?? '';
    if (raw.length > 16 * 1024) throw new InvalidRequest('request body is too large');
    const body = new Uint8Array(Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'));
    const tenant = event.pathParameters?.tenant ?? '';
    const request = requestInfo(event, context);
    const signed = {
      method: event.requestContext.http.method,
      path: event.rawPath,
      rawQueryString: event.rawQueryString ?? '',
      headers: event.headers ?? {},
      body,
    };
    const { response } = await audited(exchangeAuditDeps.audit, certificateSessionAudit(exchangeAuditDeps, tenant, request), () =>
      certificateSession(x509Deps, tenant, signed, request.source_ip),
    );
    // RFC 6749 §5.1: token responses are never cached.
    return json(200, response, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
