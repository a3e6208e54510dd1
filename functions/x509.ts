import { auditedCertificateSession, explainCertificate } from '../lib/app/x509.ts';
import { authorize } from '../lib/auth/bearer.ts';
import { InvalidRequest } from '../lib/errors.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { tenantParam } from '../lib/http/params.ts';
import { requestInfo } from '../lib/http/request-info.ts';
import { json } from '../lib/http/response.ts';
import { runtime, trustContext } from '../lib/handlers/runtime.ts';

/**
 * POST /v1/tenants/{tenant}/x509/sessions — a request signed the IAM Roles Anywhere way for a
 * fedbroker access token (docs/x509.md); POST /v1/tenants/{tenant}/x509:explain — why a
 * certificate would or would not be admitted (`trust:admin`). One function, so only it bundles
 * the X.509 code.
 */
export const handler = httpHandler(
  async (event, context) => {
    const rt = runtime();
    if (event.rawPath.endsWith(':explain')) {
      const tenant = tenantParam(event);
      await authorize({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, tenant, 'trust:admin');
      const body = parseJsonBody(event);
      return json(200, await explainCertificate({ store: rt.trustStore, clock: rt.clock, context: trustContext(rt.config) }, tenant, body));
    }
    const raw = event.body ?? '';
    if (raw.length > 16 * 1024) throw new InvalidRequest('request body is too large');
    const body = new Uint8Array(Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'));
    const { response } = await auditedCertificateSession(
      { ...rt, issuer: rt.config.issuer, nonces: rt.nonces },
      event.pathParameters?.tenant ?? '',
      requestInfo(event, context),
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        rawQueryString: event.rawQueryString ?? '',
        headers: event.headers ?? {},
        body,
      },
    );
    // RFC 6749 §5.1: token responses are never cached.
    return json(200, response, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
