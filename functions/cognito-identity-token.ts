import { failureOf } from '../lib/app/record-exchange.ts';
import { requestInfo } from '../lib/http/request-info.ts';
import { authenticate } from '../lib/auth/bearer.ts';
import { vendCognitoToken } from '../lib/app/vend.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { json } from '../lib/http/response.ts';
import { countTokenIssued } from '../lib/metrics.ts';
import { runtime } from '../lib/handlers/runtime.ts';

/** POST /v1/aws/cognito-identity-token — a Cognito OpenID token for the caller, fedbroker acting as developer provider. */
export const handler = httpHandler(
  async (event, context) => {
    const rt = runtime();
    const principal = await authenticate({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, 'aws:cognito');
    const body = parseJsonBody(event);
    const record = {
      event: 'cognito_token.issue' as const,
      tenant: principal.tenant,
      trust: principal.trust,
      principal: principal.sub,
      audience: typeof body.identity_pool_id === 'string' ? body.identity_pool_id : undefined,
      detail: { source_jti: principal.jti },
      ...requestInfo(event, context),
    };
    let vended;
    try {
      vended = await vendCognitoToken({ ...rt, developerProvider: rt.config.cognito.developerProvider }, principal, body);
    } catch (e) {
      // Bounded per tenant and source like the exchange's refusals: a caller can repeat this at will.
      await rt.audit.recordRefusal({ ...record, ...failureOf(e) });
      throw e;
    }
    // Fail-closed like the exchange: a token whose issue cannot be audited is not handed out.
    await rt.audit.record({ ...record, outcome: 'success', detail: { ...record.detail, identity_id: vended.identity_id } });
    countTokenIssued('cognito', 'cognito-identity.amazonaws.com');
    return json(200, vended, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
