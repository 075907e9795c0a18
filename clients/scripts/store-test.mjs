// relay-runtime store test against a running server (GRAPHQL_URL, and the admin password in
// STREETPLANNER_ADMIN_PASSWORD to add a community): a street and its communities fetched in
// one query are normalised by id into Relay's store, and read back unchanged. With per-table
// integer ids, street 1 and community 1 became one record and the street read back with the
// community's name.
import assert from 'node:assert/strict';
import { Environment, Network, RecordSource, Store, createOperationDescriptor, fetchQuery } from 'relay-runtime';
import StoreTestQuery from '../src/__generated__/StoreTestQuery.graphql.js';

const url = process.env.GRAPHQL_URL;
const password = process.env.STREETPLANNER_ADMIN_PASSWORD;
if (!url || !password) {
  console.error('store-test: set GRAPHQL_URL and STREETPLANNER_ADMIN_PASSWORD');
  process.exit(1);
}

async function post(query, variables, token) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const { login } = await post(
  'mutation($p: String!) { login(input: {username: "admin", password: $p}) { token } }',
  { p: password },
);
const { streets } = await post('{ streets(first: 1) { edges { node { id name } } } }');
const street = streets.edges[0].node;
const name = `存储测试社区${Date.now()}`;
await post(
  'mutation($s: ID!, $n: String!) { createCommunity(input: {streetId: $s, name: $n}) { community { id } } }',
  { s: street.id, n: name },
  login.token,
);

const environment = new Environment({
  network: Network.create((params, variables) => post(params.text, variables).then((data) => ({ data }))),
  store: new Store(new RecordSource()),
});
await fetchQuery(environment, StoreTestQuery, { id: street.id }).toPromise();
const operation = createOperationDescriptor(StoreTestQuery, { id: street.id });
const { data } = environment.lookup(operation.fragment);

assert.equal(data.street.id, street.id);
assert.equal(data.street.name, street.name, 'the street reads back with its own name');
const community = data.street.communities.find((c) => c.name === name);
assert.ok(community, 'the new community is in the street');
assert.notEqual(community.id, street.id, 'ids are unique across types');
const records = environment.getStore().getSource().getRecordIDs();
assert.ok(records.includes(street.id) && records.includes(community.id), 'one record per object');
for (const c of data.street.communities) assert.notEqual(c.name, street.name);
console.log(`store-test: ok (street ${street.name}, ${data.street.communities.length} communities, ${records.length} records)`);
