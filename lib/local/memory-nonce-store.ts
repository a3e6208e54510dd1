import type { NonceStore } from '../x509/session.ts';

/** In-process `NonceStore` for local mode and tests: same contract as the DynamoDB one. */
export class MemoryNonceStore implements NonceStore {
  readonly #held = new Map<string, number>();
  async claim(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    const held = this.#held.get(nonce);
    if (held !== undefined && held >= now) return false;
    if (this.#held.size > 100_000) for (const [k, exp] of this.#held) if (exp < now) this.#held.delete(k);
    this.#held.set(nonce, expiresAt);
    return true;
  }
}
