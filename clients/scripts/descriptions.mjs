// Every element of the schema described: runs graphql-eslint's require-description on
// build/schema.graphql for every type, field, argument, input field and enum value
// (DESCRIBE_ALL=1 in eslint.config.js) and fails when more are missing than
// descriptions-baseline.json allows. The baseline only goes down: when you describe more,
// lower it (the script says so); a new undescribed element fails the check.
// GraphQL's own directives (@include, @skip, @specifiedBy) are printed by the server's
// library without argument descriptions and are not counted.
import { readFileSync, writeFileSync } from 'node:fs';
import { ESLint } from 'eslint';

process.env.DESCRIBE_ALL = '1';
const eslint = new ESLint({ overrideConfig: { rules: {} } });
const [result] = await eslint.lintFiles(['build/schema.graphql']);
const builtIn = /in directive "(include|skip|specifiedBy|deprecated|oneOf)"/;
const missing = result.messages
  .filter((m) => m.ruleId === '@graphql-eslint/require-description')
  .filter((m) => !builtIn.test(m.message));
const other = result.messages.filter((m) => m.ruleId !== '@graphql-eslint/require-description');
if (other.length > 0) {
  for (const m of other) console.error(`schema.graphql:${m.line}: ${m.message} (${m.ruleId})`);
  process.exit(1);
}
const baselineFile = new URL('../descriptions-baseline.json', import.meta.url);
const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')).missing;
if (process.argv.includes('--list')) {
  for (const m of missing) console.log(`schema.graphql:${m.line}: ${m.message}`);
}
if (process.argv.includes('--update')) {
  writeFileSync(baselineFile, JSON.stringify({ missing: missing.length }, null, 2) + '\n');
  console.log(`descriptions: baseline set to ${missing.length}`);
} else if (missing.length > baseline) {
  for (const m of missing) console.error(`schema.graphql:${m.line}: ${m.message}`);
  console.error(`descriptions: ${missing.length} elements lack a description, the baseline allows ${baseline}: describe the new ones (English with the Chinese term, defaults and limits)`);
  process.exit(1);
} else if (missing.length < baseline) {
  console.log(`descriptions: ${missing.length} missing (baseline ${baseline}): run \`npm run descriptions -- --update\` to lower the baseline`);
} else {
  console.log(`descriptions: ${missing.length} missing (= baseline)`);
}
