// A Relay fragment a planner card would use: refetchable through `node(id:)`, and the
// permission fields that tell the card whether the phone is hidden.
import { graphql } from 'relay-runtime';

export const fragment = graphql`
  fragment PlannerCard_planner on Planner @refetchable(queryName: "PlannerCardRefetchQuery") {
    id
    name
    phone
    viewerCanSeeContact
    viewerCanUpdate
    organization {
      id
      name
    }
  }
`;
