import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trustRelationshipJsonSchema } from '../../../lib/trust/json-schema.ts';

describe('published JSON Schema', () => {
  it('matches the zod schema the API and CLI validate with (run npm run schemas after changing it)', () => {
    const committed = JSON.parse(readFileSync('schemas/trust-relationship.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(trustRelationshipJsonSchema())));
  });
});
