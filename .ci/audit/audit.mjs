// Runs graphql-http's audit suite (auditServer) against the server at process.argv[2]
// (e.g. http://127.0.0.1:8080/graphql). Prints every result; exits 1 on any failed MUST
// item or any SHOULD/MAY warning.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
let failed = 0;
let warned = 0;
for (const r of results) {
  const line = `${r.status.padEnd(7)} ${r.id} ${r.name}`;
  if (r.status === 'error') {
    failed++;
    console.log(line, '\n        ', r.reason);
  } else if (r.status === 'warn') {
    warned++;
    console.log(line, '\n        ', r.reason);
  } else {
    console.log(line);
  }
}
console.log(`graphql-http audit: ${results.length} items, ${failed} failed, ${warned} warnings`);
process.exit(failed || warned ? 1 : 0);
