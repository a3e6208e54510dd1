/**
 * Scrubs text that may reach a log line or a response: compact JWS/JWE, AWS account ids
 * (12 digits, alone or inside an ARN) and PEM blocks. Applied to every vendor message we log,
 * because SDK error messages routinely embed ARNs.
 */
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*(?:\.[\w-]*\.[\w-]*)?/g;
const PEM = /-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g;
const ACCOUNT = /(?<!\d)\d{12}(?!\d)/g;

export function redact(text: string): string {
  return text.replace(PEM, '[pem]').replace(JWT, '[jwt]').replace(ACCOUNT, '[account]');
}
