//! StreetPlanner (驻街规划师管理平台): the service behind Binjiang District's street-resident
//! planner programme.

pub mod app;
pub mod auth;
pub mod bench;
pub mod config;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod notify;
pub mod ratelimit;
pub mod sheets;
pub mod store;
pub mod telemetry;
pub mod web;
