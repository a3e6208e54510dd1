import { CognitoIdentityAdapter } from '../aws/cognito-identity.ts';
import type { VendDeps } from '../app/vend.ts';
import { runtime } from './runtime.ts';

let built: VendDeps | undefined;

/**
 * What the Cognito vending function needs, on top of the shared runtime: its own module, so the
 * Cognito Identity and STS clients are bundled into that function alone rather than into every
 * function that imports the runtime (they were ~35 kB of each bundle, parsed on each cold start).
 */
export function vendDeps(): VendDeps {
  if (built) return built;
  const { directory, config, clock } = runtime();
  built = { directory, cognito: new CognitoIdentityAdapter(), developerProvider: config.cognito.developerProvider, clock };
  return built;
}
