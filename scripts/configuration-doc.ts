// `npm run docs`: writes docs/configuration.md from the configuration schema (lib/config.ts), the
// meaning of each variable (lib/config-docs.ts) and serverless.yml (a test fails when it is stale).
import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from '../lib/config-docs.ts';

writeFileSync('docs/configuration.md', renderConfigurationDoc());
console.log('wrote docs/configuration.md');
