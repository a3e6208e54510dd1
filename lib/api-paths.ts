/**
 * The broker's HTTP API paths as its clients call them, in one place: the CLI builds every URL
 * from here, and test/unit/api-paths.test.ts ties each template to a route of serverless.yml (the
 * one route declaration) and the token path to the one discovery publishes.
 */
export const API_ROUTES = {
  token: '/v1/token',
  trustRelationships: '/v1/tenants/{tenant}/trust-relationships',
  trustRelationship: '/v1/tenants/{tenant}/trust-relationships/{id}',
  explain: '/v1/tenants/{tenant}/trust-relationships:explain',
  identityPools: '/v1/tenants/{tenant}/cognito-identity-pools',
  identityPool: '/v1/tenants/{tenant}/cognito-identity-pools/{id}',
  revocations: '/v1/tenants/{tenant}/revocations',
  audit: '/v1/tenants/{tenant}/audit',
  cognitoIdentityToken: '/v1/aws/cognito-identity-token',
  trustAnchors: '/v1/tenants/{tenant}/trust-anchors',
  trustAnchor: '/v1/tenants/{tenant}/trust-anchors/{id}',
  x509Sessions: '/v1/tenants/{tenant}/x509/sessions',
  x509Explain: '/v1/tenants/{tenant}/x509:explain',
} as const;

export type ApiRoute = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/**
 * A route template with its `{name}` parameters filled in, each percent-encoded (identity pool ids
 * contain ':'). A parameter the template names but `params` lacks is a programming error.
 */
export function apiPath(route: ApiRoute, params: Record<string, string> = {}): string {
  return route.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`apiPath: ${route} needs {${name}}`);
    return encodeURIComponent(value);
  });
}
