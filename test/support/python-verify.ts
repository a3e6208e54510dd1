import { spawnSync } from 'node:child_process';

// An independent verifier: Debian's python3-jwt (PyJWT) checks a token against a JWKS document.
// Debian's interpreter is used by absolute path: the python3 first on PATH may not see its packages.
const SCRIPT = `
import json, sys, jwt
req = json.load(sys.stdin)
keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(req["jwks"]).keys}
kid = jwt.get_unverified_header(req["token"])["kid"]
claims = jwt.decode(req["token"], keys[kid].key, algorithms=[req["alg"]], audience=req["aud"], issuer=req["iss"])
print(json.dumps(claims))
`;

/** Verifies `token` with PyJWT; resolves the claims, or rejects with PyJWT's error text. */
export function verifyWithPyJwt(input: { token: string; jwks: unknown; alg: string; aud: string; iss: string }): Record<string, unknown> {
  const out = spawnSync('/usr/bin/python3', ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) throw new Error(`PyJWT refused the token: ${out.stderr.trim().split('\n').pop()}`);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}
