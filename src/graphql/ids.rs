//! Global object identification (the Relay spec, as GitHub does it): every object's `id` is
//! the URL-safe base64 of `Type:key`, so ids are unique across types and a client's store
//! never merges a street with a community. Clients must treat ids as opaque.
//!
//! An argument that is not an id of this service is `BAD_USER_INPUT` naming the argument; a
//! well-formed id of another type is `NOT_FOUND` for a mutation's target and `null` for a
//! lookup (`street(id:)`, `node(id:)`), exactly as a missing object.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::DomainError;

macro_rules! kinds {
    ($($kind:ident => $noun:literal),* $(,)?) => {
        /// The types that carry a global id (each implements `Node`).
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum Kind { $($kind),* }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),*];

            /// The GraphQL type name, the tag inside the id.
            pub fn type_name(self) -> &'static str {
                match self { $(Kind::$kind => stringify!($kind)),* }
            }

            /// The Chinese noun of a `NOT_FOUND` message.
            pub fn noun(self) -> &'static str {
                match self { $(Kind::$kind => $noun),* }
            }

            pub fn from_type_name(name: &str) -> Option<Kind> {
                match name { $(stringify!($kind) => Some(Kind::$kind),)* _ => None }
            }
        }
    };
}

kinds! {
    Street => "街道",
    Community => "社区",
    Workstation => "工作站",
    Organization => "单位",
    Planner => "规划师",
    Appointment => "聘任",
    TeamMember => "团队成员",
    ServiceContract => "服务合同",
    Barring => "禁聘记录",
    User => "账号",
    RosterImport => "名册导入记录",
    Assessment => "考核",
    DutyRecord => "履职记录",
    Project => "项目",
    CompilationContract => "编制合同",
    SurveyReport => "体检报告",
    Problem => "问题",
    Plan => "计划",
    PlanItem => "计划事项",
    Meeting => "例会",
    ActionItem => "会议事项",
    Letter => "来信",
    Demand => "需求",
}

/// The global id of row `pk` of `kind`.
pub fn encode(kind: Kind, pk: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{pk}", kind.type_name())))
}

/// The type and key inside a global id; `None` when it is not one of ours.
pub fn decode(id: &str) -> Option<(Kind, i64)> {
    if id.len() > 96 {
        return None;
    }
    // One spelling per id: unpadded URL-safe base64 only (a padded or otherwise re-spelled
    // form of a valid id is not an id, so caches and Relay's store never see two keys).
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    if URL_SAFE_NO_PAD.encode(&bytes) != id {
        return None;
    }
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, pk) = text.split_once(':')?;
    let pk: i64 = pk.parse().ok().filter(|n| *n > 0)?;
    // Canonical form only: "Street:01" or "Street:+1" are not ids.
    if pk.to_string() != text[name.len() + 1..] {
        return None;
    }
    Some((Kind::from_type_name(name)?, pk))
}

fn malformed(id: &ID, field: &str) -> DomainError {
    let shown: String = id.as_str().chars().take(40).collect();
    DomainError::bad_input(field, format!("{field}“{shown}”不是有效的编号"))
}

/// The key of a mutation's target or a reference in an input: `BAD_USER_INPUT` when `id` is
/// not an id, `NOT_FOUND` when it names an object of another type.
pub fn parse(id: &ID, kind: Kind, field: &str) -> Result<i64, DomainError> {
    match decode(id) {
        None => Err(malformed(id, field)),
        Some((k, pk)) if k == kind => Ok(pk),
        Some(_) => Err(DomainError::not_found(kind.noun(), field)),
    }
}

/// The key of a lookup by id: `BAD_USER_INPUT` when `id` is not an id, `None` when it names
/// an object of another type (the lookup then answers `null`).
pub fn lookup(id: &ID, kind: Kind, field: &str) -> Result<Option<i64>, DomainError> {
    match decode(id) {
        None => Err(malformed(id, field)),
        Some((k, pk)) => Ok((k == kind).then_some(pk)),
    }
}

/// Any global id: `BAD_USER_INPUT` when `id` is not one.
pub fn parse_any(id: &ID, field: &str) -> Result<(Kind, i64), DomainError> {
    decode(id).ok_or_else(|| malformed(id, field))
}

/// An optional reference in an input.
pub fn parse_opt(id: &Option<ID>, kind: Kind, field: &str) -> Result<Option<i64>, DomainError> {
    id.as_ref().map(|i| parse(i, kind, field)).transpose()
}

/// A list of references; a fault names its index (`communityIds[2]`).
pub fn parse_list(list: &[ID], kind: Kind, field: &str) -> Result<Vec<i64>, DomainError> {
    list.iter()
        .enumerate()
        .map(|(i, id)| parse(id, kind, &format!("{field}[{i}]")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ErrorCode;

    #[test]
    fn round_trip_and_unique_across_types() {
        for &k in Kind::ALL {
            let id = encode(k, 42);
            assert_eq!(decode(&id), Some((k, 42)));
        }
        assert_ne!(encode(Kind::Street, 1), encode(Kind::Community, 1));
    }

    #[test]
    fn malformed_and_wrong_type() {
        for bad in ["1", "", "!!", "U3RyZWV0OjA", "Tm9wZTox", "U3RyZWV0OjAx"] {
            let e = parse(&ID(bad.into()), Kind::Street, "id").unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadUserInput, "{bad}");
            assert_eq!(e.field(), Some("id"));
        }
        let community = encode(Kind::Community, 1);
        let e = parse(&community, Kind::Street, "streetId").unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert_eq!(lookup(&community, Kind::Street, "id").unwrap(), None);
        assert_eq!(lookup(&encode(Kind::Street, 7), Kind::Street, "id").unwrap(), Some(7));
        // Exactly one spelling: the padded form of a valid id is refused.
        let padded = format!("{}=", encode(Kind::Street, 7).as_str());
        assert!(padded.len() % 4 == 0, "the id needs padding for this check");
        assert_eq!(decode(&padded), None);
    }
}
