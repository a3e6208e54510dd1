import { vendCognitoToken } from '../lib/app/vend.ts';
import { audited, vendAudit } from '../lib/handlers/audit.ts';
import { runtime } from '../lib/handlers/runtime.ts';
import { vendDeps } from '../lib/handlers/vend-runtime.ts';
import { scopedHandler } from '../lib/handlers/scope.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { json } from '../lib/http/response.ts';

/** POST /v1/aws/cognito-identity-token — a Cognito OpenID token for the caller, fedbroker acting as developer provider. */
export const handler = scopedHandler({ methods: ['POST'], scope: 'aws:cognito', tenant: 'token' }, async (event, caller) => {
  const { audit } = runtime();
  const body = parseJsonBody(event);
  const vended = await audited(audit, vendAudit(caller, body), () => vendCognitoToken(vendDeps(), caller.token, body));
  return json(200, vended, { Pragma: 'no-cache' });
});
