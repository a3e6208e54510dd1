// `npm run schemas`: writes the published JSON Schema of the trust relationship document from the
// one zod declaration in lib/trust/schema.ts (a test fails when the committed file is stale).
import { writeFileSync } from 'node:fs';
import { trustRelationshipJsonSchema } from '../lib/trust/json-schema.ts';

writeFileSync('schemas/trust-relationship.schema.json', `${JSON.stringify(trustRelationshipJsonSchema(), null, 2)}\n`);
console.log('wrote schemas/trust-relationship.schema.json');
