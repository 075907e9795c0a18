//! Boundary values into every argument of every root operation (issue 12). The schema is read
//! by introspection, so a field added later is swept too. Each argument in turn gets values at
//! and past its edges — empty, huge, negative, far dates, malformed ids, very long strings —
//! while the others get ordinary values; the answer must be data or a coded error that is not
//! INTERNAL, as the bureau (who may do everything) and as an anonymous caller, and the server
//! must go on answering.

mod common;

use std::collections::HashMap;

use common::TestApp;
use serde_json::{Value, json};

const INTROSPECT: &str = r#"
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
{
  __schema {
    queryType { name } mutationType { name }
    types {
      kind name
      enumValues { name }
      inputFields { name type { ...T } }
      fields { name args { name type { ...T } } type { ...T } }
    }
  }
}"#;

/// A type reference as introspection gives it.
#[derive(Clone, Debug)]
enum Ty {
    NonNull(Box<Ty>),
    List(Box<Ty>),
    Named(String),
}

fn ty(v: &Value) -> Ty {
    match v["kind"].as_str() {
        Some("NON_NULL") => Ty::NonNull(Box::new(ty(&v["ofType"]))),
        Some("LIST") => Ty::List(Box::new(ty(&v["ofType"]))),
        _ => Ty::Named(v["name"].as_str().unwrap().to_string()),
    }
}

fn sdl(t: &Ty) -> String {
    match t {
        Ty::NonNull(t) => format!("{}!", sdl(t)),
        Ty::List(t) => format!("[{}]", sdl(t)),
        Ty::Named(n) => n.clone(),
    }
}

fn named(t: &Ty) -> &str {
    match t {
        Ty::NonNull(t) | Ty::List(t) => named(t),
        Ty::Named(n) => n,
    }
}

struct Schema {
    kinds: HashMap<String, String>,
    enums: HashMap<String, Vec<String>>,
    inputs: HashMap<String, Vec<(String, Ty)>>,
}

impl Schema {
    /// An ordinary value of `t` (required input fields filled, optional ones left out).
    fn ordinary(&self, t: &Ty, depth: usize) -> Value {
        match t {
            Ty::NonNull(t) => self.ordinary(t, depth),
            Ty::List(t) => json!([self.ordinary(t, depth)]),
            Ty::Named(n) => match (n.as_str(), self.kinds[n].as_str()) {
                ("Int", _) => json!(1),
                ("Float", _) => json!(1.5),
                ("Boolean", _) => json!(false),
                ("ID", _) => json!("0"),
                ("Date", _) => json!("2026-01-15"),
                ("DateTime", _) => json!("2026-01-15T08:00:00Z"),
                ("Upload", _) => Value::Null,
                (_, "ENUM") => json!(self.enums[n][0]),
                (_, "INPUT_OBJECT") if depth < 6 => {
                    let mut o = serde_json::Map::new();
                    for (name, ft) in &self.inputs[n] {
                        if matches!(ft, Ty::NonNull(_)) {
                            o.insert(name.clone(), self.ordinary(ft, depth + 1));
                        }
                    }
                    Value::Object(o)
                }
                (_, "INPUT_OBJECT") => json!({}),
                _ => json!("示例"),
            },
        }
    }

    /// Values at and past the edges of `t`; for input objects, each field's edges in turn.
    fn edges(&self, t: &Ty, depth: usize) -> Vec<Value> {
        let long = "长".repeat(100_000);
        match t {
            Ty::NonNull(inner) => {
                let mut v = self.edges(inner, depth);
                v.push(Value::Null);
                v
            }
            Ty::List(inner) => {
                let mut v = vec![json!([]), json!([Value::Null])];
                let one = self.ordinary(inner, depth);
                v.push(Value::Array(vec![one; 1_000]));
                for e in self.edges(inner, depth).into_iter().take(6) {
                    v.push(json!([e]));
                }
                v
            }
            Ty::Named(n) => match (n.as_str(), self.kinds[n].as_str()) {
                ("Int", _) => vec![
                    json!(0),
                    json!(-1),
                    json!(i32::MIN),
                    json!(i32::MAX),
                    json!(4_294_967_296u64),
                    json!(1e300),
                    json!("1"),
                ],
                ("Float", _) => vec![json!(-1.0), json!(1e308), json!(-1e308), json!("NaN")],
                ("Boolean", _) => vec![json!("true"), json!(1)],
                ("ID", _) => vec![
                    json!(""),
                    json!("x"),
                    json!("-1"),
                    json!("0"),
                    json!("99999999999999999999999"),
                    json!("1e5"),
                    json!(" 1"),
                    json!("1;DROP TABLE planner"),
                    json!("%00"),
                    json!(long),
                    json!(-5),
                ],
                ("Date", _) => vec![
                    json!(""),
                    json!("+262142-12-31"),
                    json!("-262143-01-01"),
                    json!("1899-12-31"),
                    json!("2201-01-01"),
                    json!("2026-02-30"),
                    json!("2026-13-01"),
                    json!("20260101"),
                    json!(20260101),
                    json!(long),
                ],
                ("DateTime", _) => vec![json!(""), json!("+262142-12-31T00:00:00Z"), json!("yesterday")],
                ("Upload", _) => vec![json!("not a file")],
                (_, "ENUM") => vec![json!(""), json!("NOT_A_VALUE"), json!(long)],
                (_, "INPUT_OBJECT") if depth < 4 => {
                    let mut out = vec![json!({}), json!({"unknownField": 1})];
                    let base = self.ordinary(t, depth);
                    for (name, ft) in &self.inputs[n] {
                        for e in self.edges(ft, depth + 1) {
                            let mut o = base.clone();
                            o[name] = e;
                            out.push(o);
                        }
                    }
                    out
                }
                (_, "INPUT_OBJECT") => vec![json!({})],
                // String and any other scalar.
                _ => vec![
                    json!(""),
                    json!(" "),
                    json!(long),
                    json!("\u{0}"),
                    json!("\u{202e}规划\u{200b}"),
                    json!("'; --"),
                    json!(12),
                ],
            },
        }
    }
}

fn check(body: &Value, what: &str) {
    assert!(
        body.get("data").is_some() || body.get("errors").is_some(),
        "{what}: {body}"
    );
    for e in body["errors"].as_array().into_iter().flatten() {
        let code = e["extensions"]["code"].as_str().unwrap_or("");
        assert!(
            !code.is_empty() && code != "INTERNAL",
            "{what}: uncoded or INTERNAL error {e}"
        );
        let message = e["message"].as_str().unwrap_or("");
        assert!(
            !message.contains("panicked") && !message.contains("sqlx") && !message.contains("SQL"),
            "{what}: internal detail leaked: {e}"
        );
    }
}

#[tokio::test]
async fn boundary_values_in_every_root_argument_get_coded_errors() {
    let t = TestApp::new().await;
    let admin = t.admin().to_string();
    let schema = t.ok(None, INTROSPECT, json!({})).await["__schema"].clone();
    let types = schema["types"].as_array().unwrap();
    let mut s = Schema {
        kinds: HashMap::new(),
        enums: HashMap::new(),
        inputs: HashMap::new(),
    };
    for ty_ in types {
        let name = ty_["name"].as_str().unwrap().to_string();
        s.kinds.insert(name.clone(), ty_["kind"].as_str().unwrap().to_string());
        if let Some(values) = ty_["enumValues"].as_array() {
            s.enums.insert(
                name.clone(),
                values.iter().map(|v| v["name"].as_str().unwrap().to_string()).collect(),
            );
        }
        if let Some(fields) = ty_["inputFields"].as_array() {
            s.inputs.insert(
                name.clone(),
                fields
                    .iter()
                    .map(|f| (f["name"].as_str().unwrap().to_string(), ty(&f["type"])))
                    .collect(),
            );
        }
    }
    let root = |key: &str| schema[key]["name"].as_str().map(str::to_string);
    let mut sent = 0usize;
    for (operation, type_name) in [("query", root("queryType")), ("mutation", root("mutationType"))] {
        let type_name = type_name.unwrap();
        let fields = types.iter().find(|x| x["name"] == type_name.as_str()).unwrap()["fields"]
            .as_array()
            .unwrap()
            .clone();
        for field in fields {
            let name = field["name"].as_str().unwrap();
            let args: Vec<(String, Ty)> = field["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["name"].as_str().unwrap().to_string(), ty(&a["type"])))
                .collect();
            if args.is_empty() {
                continue;
            }
            let returns = ty(&field["type"]);
            let selection = match s.kinds[named(&returns)].as_str() {
                "OBJECT" | "INTERFACE" | "UNION" => " { __typename }",
                _ => "",
            };
            let defs: Vec<String> = args.iter().map(|(a, t)| format!("${a}: {}", sdl(t))).collect();
            let uses: Vec<String> = args.iter().map(|(a, _)| format!("{a}: ${a}")).collect();
            let query = format!(
                "{operation}({}) {{ {name}({}){selection} }}",
                defs.join(", "),
                uses.join(", ")
            );
            let ordinary: serde_json::Map<String, Value> =
                args.iter().map(|(a, t)| (a.clone(), s.ordinary(t, 0))).collect();
            for (arg, arg_ty) in &args {
                for edge in s.edges(arg_ty, 0) {
                    let mut vars = ordinary.clone();
                    vars.insert(arg.clone(), edge.clone());
                    let vars = Value::Object(vars);
                    let short = {
                        let e = edge.to_string();
                        e.chars().take(80).collect::<String>()
                    };
                    let what = format!("{name}({arg}: {short})");
                    // Changing the bureau's own password is the one write that would end the sweep.
                    let callers: &[Option<&str>] = if name == "changePassword" {
                        &[None]
                    } else {
                        &[Some(admin.as_str()), None]
                    };
                    for caller in callers {
                        let resp = t.post_gql(*caller, &query, vars.clone()).await;
                        let body: Value = serde_json::from_slice(&resp.body)
                            .unwrap_or_else(|e| panic!("{what}: HTTP {} not JSON ({e})", resp.status));
                        check(&body, &what);
                        sent += 1;
                    }
                }
            }
        }
    }
    assert!(sent > 1_000, "the sweep sent only {sent} requests");
    // Still serving, still the same bureau session.
    let v = t.ok(Some(&admin), "{ me { username } }", json!({})).await;
    assert_eq!(v["me"]["username"], "admin");
}
