import { authenticate } from '../lib/auth/bearer.ts';
import { vendCognitoToken } from '../lib/cognito/vend.ts';
import { parseJsonBody } from '../lib/http/form.ts';
import { httpHandler } from '../lib/http/handler.ts';
import { json } from '../lib/http/response.ts';
import { runtime } from '../lib/runtime.ts';

/** POST /v1/aws/cognito-identity-token — a Cognito OpenID token for the caller, fedbroker acting as developer provider. */
export const handler = httpHandler(
  async (event) => {
    const rt = runtime();
    const principal = await authenticate({ ...rt, issuer: rt.config.issuer }, event.headers?.authorization, 'aws:cognito');
    const vended = await vendCognitoToken({ ...rt, developerProvider: rt.config.cognito.developerProvider }, principal, parseJsonBody(event));
    return json(200, vended, { Pragma: 'no-cache' });
  },
  { methods: ['POST'] },
);
