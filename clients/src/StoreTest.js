// The query of scripts/store-test.mjs: a street and its communities in one response, which
// Relay normalises into one record per id.
import { graphql } from 'relay-runtime';

export const query = graphql`
  query StoreTestQuery($id: ID!) {
    street(id: $id) {
      id
      name
      communities {
        id
        name
      }
    }
  }
`;
