//! The comparison point of BENCHMARKS.md: a stock async-graphql-axum server answering
//! `{ hello }`, nothing else (no guards, no tracing, no token, no database). Bench-only.
//!
//! ```sh
//! cargo run --release --example stock_hello -- 127.0.0.1:8090
//! wrk -t1 -c16 -d5s -s fixtures/bench/post.lua http://127.0.0.1:8090/graphql
//! ```

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use async_graphql_axum::GraphQL;
use axum::Router;
use axum::routing::post_service;

struct Query;

#[Object]
impl Query {
    async fn hello(&self) -> &'static str {
        "world"
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8090".into());
    let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
    let app = Router::new().route("/graphql", post_service(GraphQL::new(schema)));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("stock async-graphql-axum server on http://{addr}/graphql");
    axum::serve(listener, app).await
}
